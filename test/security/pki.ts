// A throwaway PKI for TLS tests, made with openssl: a CA, a server certificate for 127.0.0.1 and a
// client certificate it signed, and a second CA that signed neither.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Pki {
  readonly ca: string;
  readonly otherCa: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

export async function makePki(folder: string): Promise<Pki> {
  const path = (name: string): string => join(folder, name);
  const openssl = (...args: string[]) => run("openssl", args, { cwd: folder });
  for (const ca of ["ca", "other-ca"]) {
    await openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=Tonearm test ${ca}`, "-keyout", path(`${ca}-key.pem`), "-out", path(`${ca}.pem`));
  }
  for (const [name, extension] of [
    ["server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"],
    ["client", "extendedKeyUsage=clientAuth"],
  ] as const) {
    await writeFile(path(`${name}.ext`), `${extension}\n`);
    await openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", path(`${name}-key.pem`), "-out", path(`${name}.csr`));
    await openssl("x509", "-req", "-in", path(`${name}.csr`), "-CA", path("ca.pem"), "-CAkey", path("ca-key.pem"), "-CAcreateserial", "-days", "1", "-extfile", path(`${name}.ext`), "-out", path(`${name}.pem`));
  }
  return {
    ca: path("ca.pem"),
    otherCa: path("other-ca.pem"),
    serverCert: path("server.pem"),
    serverKey: path("server-key.pem"),
    clientCert: path("client.pem"),
    clientKey: path("client-key.pem"),
  };
}
