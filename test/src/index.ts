/** Shared helpers for Tonearm's test suites: fixture locations and real-service discovery. */
export { fixturePaths, readFixture, type FixtureSet } from "./fixtures.js";
export {
  natsUrl,
  redisUrl,
  testNamespace,
  startNats,
  startRedis,
  freePort,
  type OwnServer,
  type StartNatsOptions,
  type StartRedisOptions,
} from "./services.js";
export { ScrobbleRecorder, type ReceivedScrobble } from "./scrobble-recorder.js";
export { killRoleProcesses, startRoleProcess, waitFor, type RoleProcess, type RoleProcessOptions } from "./role-process.js";
