//! Certificates made in the test (rcgen): a server CA and a client CA, a
//! server certificate for `localhost`, and client certificates.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use weft_server::ServerTls;

/// A CA: its certificate (PEM), and what signs with it.
pub struct Ca {
    pub pem: String,
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

pub fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        cert,
        key,
    }
}

/// A certificate for `name` signed by `ca` (PEM certificate, PEM key);
/// `expired` puts its validity in the past.
pub fn leaf(ca: &Ca, name: &str, expired: bool) -> (Vec<u8>, Vec<u8>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem().into_bytes(), key.serialize_pem().into_bytes())
}

pub struct Pki {
    pub server_ca: Ca,
    pub client_ca: Ca,
    pub server: ServerTls,
}

pub fn pki() -> Pki {
    let server_ca = ca("weft test server CA");
    let client_ca = ca("weft test client CA");
    let (cert_chain, private_key) = leaf(&server_ca, "localhost", false);
    let server = ServerTls {
        cert_chain,
        private_key,
        client_ca_cert: Some(client_ca.pem.clone().into_bytes()),
    };
    Pki {
        server_ca,
        client_ca,
        server,
    }
}
