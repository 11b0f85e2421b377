//! Checking a backup from the file alone: its format and version, the signature, every table's
//! row count and hash, and the audit chain's links (and, given the audit keys, its HMACs).
//!
//! The file is read as a stream (one row in memory at a time), so a verifier needs no more memory
//! for a large backup than for a small one. Problems are reported in the order the file reveals
//! them: the header as it is read, each audit event as it is read, then, at the manifest, the
//! signature, each table's count and hash in manifest order, and the chain's head.

use std::collections::HashSet;
use std::fmt;
use std::io::{BufReader, Read};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use entity::{ActorKind, Outcome, audit_event};
use sea_orm::ActiveEnum;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::signing::{
    AuditHead, OrganisationHeader, TableDigest, public_key_to_base64, signature_holds,
    signed_content,
};
use super::{FORMAT, VERSION};
use crate::audit::GENESIS_HASH;
use crate::audit::keys::AuditKeys;

/// A backup that verified.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub organisation: OrganisationHeader,
    pub exported_at: String,
    pub tables: usize,
    pub rows: u64,
    pub audit_head: AuditHead,
    /// The public key the signature was checked with (base64).
    pub public_key: String,
    /// Whether every audit event's HMAC was recomputed (only with the audit keys); the links
    /// between events are checked either way.
    pub audit_hashes_recomputed: bool,
    /// Every table's row count and SHA-256, as the manifest lists them and the file holds them
    /// (a restore reads the file again and checks it still holds exactly these rows).
    pub table_digests: Vec<TableDigest>,
}

/// The first thing in a backup that does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyProblem {
    #[error("cannot read the file: {0}")]
    Read(String),
    #[error("not a VasKem backup: format {0}, expected \"{FORMAT}\"")]
    NotABackup(String),
    #[error("unsupported backup version {0}: this VasKem reads version {VERSION}")]
    UnsupportedVersion(String),
    #[error("the file is truncated: it ends before the document does")]
    Truncated,
    #[error("malformed backup: {0}")]
    Malformed(String),
    #[error("audit chain broken at event {seq}: {why}")]
    AuditChain { seq: i64, why: String },
    #[error("the signature is not by the expected key: signed by {signed_by}, expected {expected}")]
    WrongKey { signed_by: String, expected: String },
    #[error("the signature does not verify: the header or the manifest was changed after signing")]
    BadSignature,
    #[error("table {table} is in the manifest but not in the file")]
    MissingTable { table: String },
    #[error("table {table} is in the file but not in the manifest")]
    UnlistedTable { table: String },
    #[error("table {table}: the file holds {in_file} rows, the manifest says {in_manifest}")]
    RowCount {
        table: String,
        in_file: u64,
        in_manifest: u64,
    },
    #[error(
        "table {table}: the SHA-256 of its rows does not match the manifest (a row was changed)"
    )]
    TableHash { table: String },
    #[error("audit chain head: the events end at {in_file}, the {source_name} says {claimed}")]
    AuditHead {
        source_name: &'static str,
        in_file: HeadShown,
        claimed: HeadShown,
    },
}

/// An audit head as a problem shows it: `seq (hash)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadShown(pub i64, pub String);

impl fmt::Display for HeadShown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event {} ({})", self.0, self.1)
    }
}

/// Verifies the backup read from `input` against `public_key`; with `audit_keys`, every audit
/// event's HMAC too. Names the first problem (see the module documentation).
pub fn verify<R: Read>(
    input: R,
    public_key: &VerifyingKey,
    audit_keys: Option<&AuditKeys>,
) -> Result<VerifyReport, VerifyProblem> {
    let mut state = State {
        audit_keys,
        ..State::default()
    };
    let mut document =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, input));
    let parsed = (&mut document)
        .deserialize_map(DocumentVisitor { state: &mut state })
        .and_then(|()| document.end());
    if let Some(problem) = state.problem.take() {
        return Err(problem);
    }
    if let Err(err) = parsed {
        return Err(if err.is_eof() {
            VerifyProblem::Truncated
        } else if err.is_io() {
            VerifyProblem::Read(err.to_string())
        } else {
            VerifyProblem::Malformed(err.to_string())
        });
    }
    state.finish(public_key)
}

/// What the reading has found so far.
#[derive(Default)]
struct State<'k> {
    audit_keys: Option<&'k AuditKeys>,
    problem: Option<VerifyProblem>,
    exported_at: Option<String>,
    organisation: Option<OrganisationHeader>,
    tables: Vec<TableDigest>,
    /// The next audit event expected, and the hash it must link to.
    next_seq: i64,
    last_hash: String,
    /// The `audit_heads` row, if the file holds one.
    head_row: Option<AuditHead>,
    manifest: Option<Manifest>,
}

impl State<'_> {
    /// Records `problem` and returns the error that stops the reading.
    fn stop<E: de::Error>(&mut self, problem: VerifyProblem) -> E {
        let message = problem.to_string();
        self.problem = Some(problem);
        E::custom(message)
    }

    /// Checks one audit event's link to the one before (and its HMAC, given the keys).
    fn audit_event(&mut self, text: &str) -> Result<(), VerifyProblem> {
        if self.next_seq == 0 {
            self.next_seq = 1;
            self.last_hash = GENESIS_HASH.to_owned();
        }
        let seq = self.next_seq;
        let broken = |why: String| VerifyProblem::AuditChain { seq, why };
        let event: ExportedEvent = serde_json::from_str(text)
            .map_err(|err| broken(format!("not an audit event: {err}")))?;
        if event.seq != seq {
            return Err(broken(format!(
                "expected event {seq}, found event {}",
                event.seq
            )));
        }
        if event.prev_hash != self.last_hash {
            return Err(broken("prev_hash does not match the previous event".into()));
        }
        if let Some(keys) = self.audit_keys {
            let model = event.model().map_err(broken)?;
            if let Some(why) = crate::audit::event_hash_problem(keys, &model) {
                return Err(broken(why));
            }
        }
        self.last_hash = event.hash;
        self.next_seq += 1;
        Ok(())
    }

    fn finish(mut self, public_key: &VerifyingKey) -> Result<VerifyReport, VerifyProblem> {
        let missing = |what: &str| VerifyProblem::Malformed(format!("no {what}"));
        let manifest = self.manifest.take().ok_or_else(|| missing("manifest"))?;
        let organisation = self
            .organisation
            .take()
            .ok_or_else(|| missing("organisation"))?;
        let exported_at = self
            .exported_at
            .take()
            .ok_or_else(|| missing("exportedAt"))?;

        let expected = public_key_to_base64(public_key);
        if manifest.signature.algorithm != "Ed25519" {
            return Err(VerifyProblem::Malformed(format!(
                "signature algorithm {:?}, expected \"Ed25519\"",
                manifest.signature.algorithm
            )));
        }
        if manifest.signature.public_key != expected {
            return Err(VerifyProblem::WrongKey {
                signed_by: manifest.signature.public_key,
                expected,
            });
        }
        let content = signed_content(
            VERSION,
            &exported_at,
            &organisation,
            &manifest.tables,
            &manifest.audit_head,
        );
        if !signature_holds(public_key, &content, &manifest.signature.value) {
            return Err(VerifyProblem::BadSignature);
        }

        for listed in &manifest.tables {
            let Some(found) = self.tables.iter().find(|table| table.table == listed.table) else {
                return Err(VerifyProblem::MissingTable {
                    table: listed.table.clone(),
                });
            };
            if found.rows != listed.rows {
                return Err(VerifyProblem::RowCount {
                    table: listed.table.clone(),
                    in_file: found.rows,
                    in_manifest: listed.rows,
                });
            }
            if found.sha256 != listed.sha256 {
                return Err(VerifyProblem::TableHash {
                    table: listed.table.clone(),
                });
            }
        }
        if let Some(unlisted) = self
            .tables
            .iter()
            .find(|table| !manifest.tables.iter().any(|t| t.table == table.table))
        {
            return Err(VerifyProblem::UnlistedTable {
                table: unlisted.table.clone(),
            });
        }

        let in_file = if self.next_seq == 0 {
            AuditHead {
                seq: 0,
                hash: GENESIS_HASH.to_owned(),
            }
        } else {
            AuditHead {
                seq: self.next_seq - 1,
                hash: self.last_hash.clone(),
            }
        };
        let shown = |head: &AuditHead| HeadShown(head.seq, head.hash.clone());
        if in_file != manifest.audit_head {
            return Err(VerifyProblem::AuditHead {
                source_name: "manifest",
                in_file: shown(&in_file),
                claimed: shown(&manifest.audit_head),
            });
        }
        if let Some(row) = self.head_row.as_ref().filter(|row| **row != in_file) {
            return Err(VerifyProblem::AuditHead {
                source_name: "audit_heads row",
                in_file: shown(&in_file),
                claimed: shown(row),
            });
        }
        Ok(VerifyReport {
            organisation,
            exported_at,
            tables: self.tables.len(),
            rows: self.tables.iter().map(|table| table.rows).sum(),
            audit_head: in_file,
            public_key: expected,
            audit_hashes_recomputed: self.audit_keys.is_some(),
            table_digests: manifest.tables,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    tables: Vec<TableDigest>,
    audit_head: AuditHead,
    signature: SignatureBlock,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureBlock {
    algorithm: String,
    public_key: String,
    value: String,
}

/// An `audit_events` row as a backup holds it.
#[derive(Deserialize)]
pub(super) struct ExportedEvent {
    tenant_id: String,
    seq: i64,
    occurred_at: String,
    actor_kind: String,
    actor_user_id: Option<String>,
    actor_label: String,
    client_addr: Option<String>,
    request_id: Option<String>,
    outcome: String,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    detail: String,
    prev_hash: String,
    hash: String,
    key_id: Option<String>,
}

impl ExportedEvent {
    /// The event as the audit log's hash reads it.
    pub(super) fn model(&self) -> Result<audit_event::Model, String> {
        let uuid = |text: &str| {
            text.parse::<uuid::Uuid>()
                .map_err(|_| format!("{text:?} is not a uuid"))
        };
        Ok(audit_event::Model {
            tenant_id: entity::TenantId(uuid(&self.tenant_id)?),
            seq: self.seq,
            occurred_at: DateTime::parse_from_rfc3339(&self.occurred_at)
                .map_err(|_| format!("occurred_at {:?} is not a time", self.occurred_at))?
                .with_timezone(&Utc),
            actor_kind: ActorKind::try_from_value(&self.actor_kind)
                .map_err(|_| format!("unknown actor kind {:?}", self.actor_kind))?,
            actor_user_id: self
                .actor_user_id
                .as_deref()
                .map(|id| uuid(id).map(entity::UserId))
                .transpose()?,
            actor_label: self.actor_label.clone(),
            client_addr: self.client_addr.clone(),
            request_id: self.request_id.clone(),
            outcome: Outcome::try_from_value(&self.outcome)
                .map_err(|_| format!("unknown outcome {:?}", self.outcome))?,
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id.clone(),
            detail: self.detail.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
            key_id: self.key_id.clone(),
        })
    }
}

/// The document's keys, in the order they must come.
const KEYS: [&str; 6] = [
    "format",
    "version",
    "exportedAt",
    "organisation",
    "tables",
    "manifest",
];

struct DocumentVisitor<'s, 'k> {
    state: &'s mut State<'k>,
}

impl<'de> Visitor<'de> for DocumentVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a VasKem backup document (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.state;
        for expected in KEYS {
            let Some(key) = map.next_key::<String>()? else {
                return Err(state.stop(VerifyProblem::Malformed(format!(
                    "the document ends before its {expected:?}"
                ))));
            };
            if key != expected {
                return Err(state.stop(VerifyProblem::Malformed(format!(
                    "found {key:?} where {expected:?} belongs"
                ))));
            }
            match expected {
                "format" => {
                    let format: serde_json::Value = map.next_value()?;
                    if format != FORMAT {
                        return Err(state.stop(VerifyProblem::NotABackup(format.to_string())));
                    }
                }
                "version" => {
                    let version: serde_json::Value = map.next_value()?;
                    if version != VERSION {
                        return Err(
                            state.stop(VerifyProblem::UnsupportedVersion(version.to_string()))
                        );
                    }
                }
                "exportedAt" => state.exported_at = Some(map.next_value()?),
                "organisation" => state.organisation = Some(map.next_value()?),
                "tables" => map.next_value_seed(TablesSeed { state: &mut *state })?,
                _ => state.manifest = Some(map.next_value()?),
            }
        }
        if let Some(key) = map.next_key::<String>()? {
            return Err(state.stop(VerifyProblem::Malformed(format!(
                "unexpected {key:?} after the manifest"
            ))));
        }
        Ok(())
    }
}

struct TablesSeed<'s, 'k> {
    state: &'s mut State<'k>,
}

impl<'de> DeserializeSeed<'de> for TablesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TablesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the tables: an object of arrays of rows")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(table) = map.next_key::<String>()? {
            if !seen.insert(table.clone()) {
                return Err(self.state.stop(VerifyProblem::Malformed(format!(
                    "table {table} appears twice"
                ))));
            }
            map.next_value_seed(RowsSeed {
                table,
                state: &mut *self.state,
            })?;
        }
        Ok(())
    }
}

struct RowsSeed<'s, 'k> {
    table: String,
    state: &'s mut State<'k>,
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table: an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut sha = Sha256::new();
        let mut rows = 0_u64;
        // Each row's text exactly as the file holds it: that is what the manifest hashed.
        while let Some(row) = seq.next_element::<Box<RawValue>>()? {
            let text = row.get();
            sha.update(text.as_bytes());
            sha.update(b"\n");
            rows += 1;
            match self.table.as_str() {
                "audit_events" => {
                    if let Err(problem) = self.state.audit_event(text) {
                        return Err(self.state.stop(problem));
                    }
                }
                "audit_heads" => {
                    #[derive(Deserialize)]
                    struct HeadRow {
                        last_seq: i64,
                        last_hash: String,
                    }
                    let head: HeadRow = serde_json::from_str(text).map_err(de::Error::custom)?;
                    self.state.head_row = Some(AuditHead {
                        seq: head.last_seq,
                        hash: head.last_hash,
                    });
                }
                _ => {}
            }
        }
        self.state.tables.push(TableDigest {
            table: self.table,
            rows,
            sha256: hex::encode(sha.finalize()),
        });
        Ok(())
    }
}
