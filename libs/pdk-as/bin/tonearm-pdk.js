#!/usr/bin/env node
// Present before the build, so npm links the `tonearm-pdk` command on install; the code is in dist/.
import "../dist/cli.js";
