// AssemblyScript entry of @tonearm/pdk-as (the compiler resolves the package to this file).
export * from "./assembly/index";
