// The guest exports every plugin needs: `export * from "@tonearm/pdk-as/exports";` in the entry file.
export * from "./assembly/exports";
