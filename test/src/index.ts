/** Shared helpers for Tonearm's test suites: fixture locations and real-service discovery. */
export { fixturePaths, type FixtureSet } from "./fixtures.js";
