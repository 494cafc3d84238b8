import type { Client as VodClient } from "tencentcloud-sdk-nodejs/tencentcloud/services/vod/v20180717/vod_client.js";
import type { Config } from "../config/index.js";
import { lazy } from "../lazy/index.js";
import { cloudCall, cloudClientConfig } from "./cloud.js";

/** What the replay catalog needs of a VOD file. */
export interface MediaFacts {
  durationSeconds: number;
  sizeBytes: number;
  url?: string;
  /** When VOD created the file (ms). */
  createdAt?: number;
}

/**
 * VOD file lookups (`DescribeMediaInfos`), for upload events that come without `MetaData`
 * (reference §7). Only the live-callback function builds it, so only its bundle carries the
 * VOD client.
 */
export class VodMedia {
  constructor(
    /** The SDK client, loaded on the first lookup (most of the function's events need none). */
    private readonly client: () => Promise<VodClient>,
    private readonly subAppId?: number,
  ) {}

  /** The file's duration, size and URL; undefined when VOD does not have it. Throws a `TencentError` when VOD cannot answer. */
  async describe(fileId: string): Promise<MediaFacts | undefined> {
    const result = await cloudCall("DescribeMediaInfos", async () =>
      (await this.client()).DescribeMediaInfos({ FileIds: [fileId], Filters: ["basicInfo", "metaData"], ...(this.subAppId ? { SubAppId: this.subAppId } : {}) }),
    );
    const info = result.MediaInfoSet?.find((media) => media.FileId === fileId);
    if (!info) return undefined;
    const created = Date.parse(info.BasicInfo?.CreateTime ?? "");
    return {
      durationSeconds: Math.round(info.MetaData?.Duration ?? 0),
      sizeBytes: info.MetaData?.Size ?? 0,
      url: info.BasicInfo?.MediaUrl || undefined,
      createdAt: Number.isFinite(created) ? created : undefined,
    };
  }
}

export const createVodMedia = (config: Pick<Config, "tencentCloud" | "vodSubAppId">) =>
  new VodMedia(
    lazy(async () => new (await import("tencentcloud-sdk-nodejs/tencentcloud/services/vod/v20180717/vod_client.js")).Client(cloudClientConfig(config, "vod"))),
    config.vodSubAppId,
  );
