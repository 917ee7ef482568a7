//! Decoding payloads for people: the web UI sends the payloads it shows
//! to `/api/v1/codec/decode`, and the server runs them through the codec
//! chain it was given ([`ServerConfig::data_converter`](crate::ServerConfig::data_converter)),
//! as Temporal's UI asks a codec server. The engine and its store never
//! see a decoded payload: clients and workers encode and decode their own,
//! and only this call decodes on the server, for whoever may call the
//! API (so serve it with mutual TLS when payloads are secret).

use std::path::Path;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use weft::DataConverter;
use weft::Payload;
use weft::converter::encryption::EncryptionCodec;

use crate::access::Access;
use crate::routes::{AppState, decode, error, json};

/// Where the decode call is posted.
pub(crate) const DECODE_PATH: &str = "/api/v1/codec/decode";

/// Payloads to decode, of a namespace.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DecodeRequest {
    pub namespace: String,
    pub payloads: Vec<Payload>,
}

impl weft::remote::api::Call for DecodeRequest {
    const PATH: &'static str = DECODE_PATH;
    type Response = DecodeResponse;
    fn namespace(&self) -> Option<&str> {
        Some(&self.namespace)
    }
    fn serve<'a>(
        self,
        _: &'a weft::remote::api::ServeContext<'a>,
    ) -> futures::future::BoxFuture<'a, Result<DecodeResponse, weft::backend::BackendError>> {
        Box::pin(async {
            Err(weft::backend::BackendError::Unsupported(
                "decoding is the server's".into(),
            ))
        })
    }
}

/// Each payload decoded, or why it could not be, in the request's order.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DecodeResponse {
    /// Whether the server has a codec at all.
    pub codec: bool,
    pub payloads: Vec<Decoded>,
}

/// One payload's outcome.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Decoded {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

const NO_CODEC: &str = "the server has no codec to decode it with: start it with \
     `--encryption-key ID=FILE` (or ServerConfig::data_converter)";

/// Decodes each payload on its own, so one that fails (a key the server
/// lacks) leaves the others readable.
pub(crate) fn decode_all(
    converter: Option<&DataConverter>,
    payloads: Vec<Payload>,
) -> DecodeResponse {
    let payloads = payloads
        .into_iter()
        .map(|payload| match converter {
            None => Decoded {
                payload: None,
                error: Some(NO_CODEC.into()),
            },
            Some(converter) => match converter.decode(vec![payload]) {
                Ok(mut decoded) => Decoded {
                    payload: decoded.pop(),
                    error: None,
                },
                Err(e) => {
                    tracing::debug!(error = %e, "a payload could not be decoded");
                    Decoded {
                        payload: None,
                        error: Some(e.to_string()),
                    }
                }
            },
        })
        .collect();
    DecodeResponse {
        codec: converter.is_some(),
        payloads,
    }
}

pub(crate) async fn handler(
    State(state): State<Arc<AppState>>,
    Extension(access): Extension<Access>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request: DecodeRequest = match decode(body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if let Err(e) = state.admit(&request.namespace, &access) {
        return error(e);
    }
    json(
        StatusCode::OK,
        &decode_all(state.data_converter.as_ref(), request.payloads),
    )
}

/// Why a key for the encryption codec is unusable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// A data converter with an [`EncryptionCodec`] whose keys are `ID=FILE`
/// pairs: the first encrypts (the current key), every one decrypts. A
/// file holds the 32 key bytes, raw or as 64 hex digits.
pub fn encryption_converter(keys: &[String]) -> Result<DataConverter, KeyError> {
    let mut codec: Option<EncryptionCodec> = None;
    for spec in keys {
        let (id, path) = spec.split_once('=').ok_or_else(|| {
            KeyError(format!(
                "--encryption-key {spec:?}: expected ID=FILE, the key's id as the workers name it and the file that holds it"
            ))
        })?;
        let key = read_key(Path::new(path))
            .map_err(|why| KeyError(format!("--encryption-key {id}={path}: {why}")))?;
        let bad = |e: weft::converter::CodecError| KeyError(format!("--encryption-key {id}: {e}"));
        codec = Some(match codec {
            None => EncryptionCodec::new(id, &key).map_err(bad)?,
            Some(codec) => codec.with_decryption_key(id, &key).map_err(bad)?,
        });
    }
    let codec = codec.ok_or_else(|| KeyError("no --encryption-key given".into()))?;
    Ok(DataConverter::new().with_codec(codec))
}

/// 32 bytes, raw or as 64 hex digits (`openssl rand -hex 32`).
fn read_key(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the key file: {e}"))?;
    if bytes.len() == 32 {
        return Ok(bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let hex = text.trim();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
            .collect();
    }
    Err(format!(
        "the key file holds {} bytes: expected 32 bytes, or 64 hex digits (openssl rand -hex 32)",
        bytes.len()
    ))
}
