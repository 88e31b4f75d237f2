//! A software passkey for tests (feature `test-support`): answers the
//! options keyward sends as a browser with a platform authenticator would
//! (a P-256 key, "none" attestation, user present and verified, a counting
//! signature counter, the user handle in every assertion), in the JSON the
//! pages' script posts. Tests change its answers to check what keyward
//! refuses. Never part of a production build.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Flags of authenticator data: user present, user verified, attested
/// credential data included.
const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;

/// One discoverable credential held by a software authenticator.
pub struct SoftPasskey {
    key: SigningKey,
    credential_id: Vec<u8>,
    /// The user handle and RP ID registration gave it.
    user_handle: Vec<u8>,
    rp_id: String,
    origin: String,
    counter: u32,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .unwrap_or_default()
}

/// CBOR head of a major type with a length or value.
fn cbor_head(out: &mut Vec<u8>, major: u8, n: usize) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len());
    out.extend(text.as_bytes());
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len());
    out.extend(bytes);
}

impl SoftPasskey {
    /// A new credential whose key and id follow from `seed` (1–200), so a
    /// test can make two distinct ones.
    pub fn new(seed: u8, origin: &str) -> SoftPasskey {
        let key = SigningKey::from_slice(&[seed.max(1); 32]).unwrap_or_else(|_| {
            SigningKey::from_slice(&[7; 32]).unwrap_or_else(|_| unreachable!("a valid key"))
        });
        SoftPasskey {
            key,
            credential_id: Sha256::digest([seed, 0x70, 0x6b]).to_vec(),
            user_handle: Vec::new(),
            rp_id: String::new(),
            origin: origin.trim_end_matches('/').to_owned(),
            counter: 0,
        }
    }

    /// This credential's id, in base64url.
    pub fn credential_id(&self) -> String {
        b64(&self.credential_id)
    }

    /// Rewinds the signature counter (as a clone of the authenticator would).
    pub fn set_counter(&mut self, counter: u32) {
        self.counter = counter;
    }

    /// The COSE form of the public key (EC2, ES256, P-256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        let (x, y) = (&bytes[1..33], &bytes[33..65]);
        let mut out = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01];
        out.push(0x21);
        cbor_bytes(&mut out, x);
        out.push(0x22);
        cbor_bytes(&mut out, y);
        out
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// Answers `navigator.credentials.create()` with the server's options
    /// (`{"publicKey": …}`): the JSON the page posts back.
    pub fn register(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        self.rp_id = public_key["rp"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.user_handle = unb64(public_key["user"]["id"].as_str().unwrap_or_default());
        let challenge = public_key["challenge"].as_str().unwrap_or_default();
        let client_data = self.client_data("webauthn.create", challenge);

        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(FLAG_UP | FLAG_UV | FLAG_AT);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());

        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);

        json!({
            "id": self.credential_id(),
            "rawId": self.credential_id(),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&client_data),
            },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get()` with the server's options: an
    /// assertion signed by this credential, with the next counter value and
    /// the user handle. `None` when the options name other credentials only.
    pub fn sign_in(&mut self, options: &Value) -> Option<Value> {
        let public_key = &options["publicKey"];
        let allowed = public_key["allowCredentials"].as_array();
        if let Some(allowed) = allowed.filter(|a| !a.is_empty())
            && !allowed
                .iter()
                .any(|c| c["id"].as_str() == Some(&self.credential_id()))
        {
            return None;
        }
        let rp_id = public_key["rpId"]
            .as_str()
            .unwrap_or(&self.rp_id)
            .to_owned();
        let challenge = public_key["challenge"].as_str().unwrap_or_default();
        let client_data = self.client_data("webauthn.get", challenge);
        self.counter += 1;
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(FLAG_UP | FLAG_UV);
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        Some(json!({
            "id": self.credential_id(),
            "rawId": self.credential_id(),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        }))
    }
}
