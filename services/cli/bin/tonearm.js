#!/usr/bin/env node
// Present before the build, so npm links the `tonearm` command on install; the code is in dist/.
import "../dist/main.js";
