export { parseRoles, startTonearm, ROLES, type Role, type RunningTonearm, type StartOptions } from "./start.js";
