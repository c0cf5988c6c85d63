#!/usr/bin/env node
// Regenerates code from proto/: TypeScript messages (protoc-gen-es) for the libraries and
// AssemblyScript messages (the PDK's own protoc plugin) for plugin authors.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => `${root}node_modules/.bin/${name}`;
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

// The AssemblyScript generator is TypeScript; build it before buf runs it.
if (existsSync(`${root}libs/pdk-as/tsconfig.json`)) run(bin("tsc"), ["-b", "libs/pdk-as"]);
run(bin("buf"), ["generate"]);
