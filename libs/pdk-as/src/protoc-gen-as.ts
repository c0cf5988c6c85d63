#!/usr/bin/env node
// protoc/buf plugin entry point: reads a CodeGeneratorRequest on stdin and writes AssemblyScript
// message classes (see codegen/plugin.ts). Used by `npm run gen` through buf.gen.yaml.
import { runNodeJs } from "@bufbuild/protoplugin";
import { protocGenAs } from "./codegen/plugin.js";

runNodeJs(protocGenAs);
