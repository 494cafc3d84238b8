export * from "./domain.js";
export { RoomService, type RoomServiceDeps, type RoomSignal, type RoomView } from "./service.js";
export { RoomStore, closingStamps, counterKey, counterUpdate, memberKey, roomKey, type Room } from "./store.js";
