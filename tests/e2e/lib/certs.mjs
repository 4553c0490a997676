// Throwaway certificates for the HTTPS tests, made with the `openssl` command in `dir`: a test
// CA and a server certificate it signs for 127.0.0.1 and localhost (subjectAltName).
//
//   const { ca, cert, key } = makeCerts(dir);
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export function makeCerts(dir) {
  const f = (name) => join(dir, name);
  // Our own configuration files, so that the system's openssl.cnf adds nothing.
  writeFileSync(f('ca.cnf'), '[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\n[dn]\n'
    + '[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n');
  writeFileSync(f('leaf.cnf'), '[req]\ndistinguished_name = dn\n[dn]\n');
  writeFileSync(f('leaf.ext'), 'basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature,keyEncipherment\n'
    + 'extendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n'
    + 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', '-new', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=Hydra e2e CA', '-config', f('ca.cnf')]);
  openssl(['req', '-new', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=hydra-e2e',
    '-config', f('leaf.cnf')]);
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-set_serial', '7',
    '-days', '2', '-extfile', f('leaf.ext'), '-out', f('server.pem')]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}
