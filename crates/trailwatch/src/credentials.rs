//! The account and its root credentials: given by configuration, or generated at first
//! start, kept in the data directory with the secret sealed under the master key, and
//! shown once.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use store::Store;

use crate::config::Settings;

const FILE: &str = "account.json";
const PURPOSE: &str = "trailwatch/root-secret/v1";

/// The account this server serves and its root key pair.
pub struct Account {
    pub account_id: String,
    pub access_key_id: String,
    pub secret: iam::Secret,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    account_id: String,
    access_key_id: String,
    /// The root secret sealed with the master key, hex.
    sealed_secret: String,
}

/// Loads the account, or creates it; prints generated credentials once.
pub fn load_or_create(settings: &Settings, store: &Store) -> anyhow::Result<Account> {
    let path = settings.data_dir.join(FILE);
    let stored = if path.exists() { Some(read(&path)?) } else { None };
    let account_id =
        settings.account_id.clone().or_else(|| stored.as_ref().map(|s| s.account_id.clone())).unwrap_or_else(generate_account_id);
    if let (Some(id), Some(secret)) = (&settings.root_access_key_id, &settings.root_secret_access_key) {
        write(&path, store, &account_id, id, secret)?;
        return Ok(Account { account_id, access_key_id: id.clone(), secret: iam::Secret::new(secret.clone()) });
    }
    if let Some(s) = stored {
        let secret =
            store.open_secret(PURPOSE, &hex::decode(&s.sealed_secret)?).context("the root secret does not open with this master key")?;
        if s.account_id != account_id {
            write(&path, store, &account_id, &s.access_key_id, std::str::from_utf8(&secret)?)?;
        }
        return Ok(Account { account_id, access_key_id: s.access_key_id, secret: iam::Secret::new(String::from_utf8(secret)?) });
    }
    let (id, secret) = (generate_access_key_id(), generate_secret());
    write(&path, store, &account_id, &id, &secret)?;
    show_once(settings, &account_id, &id, &secret);
    Ok(Account { account_id, access_key_id: id, secret: iam::Secret::new(secret) })
}

fn read(path: &Path) -> anyhow::Result<Stored> {
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

fn write(path: &Path, store: &Store, account_id: &str, access_key_id: &str, secret: &str) -> anyhow::Result<()> {
    let stored = Stored {
        account_id: account_id.to_owned(),
        access_key_id: access_key_id.to_owned(),
        sealed_secret: hex::encode(store.seal_secret(PURPOSE, secret.as_bytes())),
    };
    store::write_secret_file(path, &serde_json::to_vec_pretty(&stored)?)?;
    Ok(())
}

/// Prints the generated credentials to the terminal (not the log), with a ready snippet.
fn show_once(settings: &Settings, account_id: &str, id: &str, secret: &str) {
    println!(
        "trailwatch created account {account_id} with root credentials (shown only this once):\n\n\
         \x20 aws configure set aws_access_key_id {id}\n\
         \x20 aws configure set aws_secret_access_key {secret}\n\
         \x20 aws configure set region us-east-1\n\
         \x20 export AWS_ENDPOINT_URL=http://{}\n",
        settings.listen
    );
}

fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| alphabet[*b as usize % alphabet.len()] as char).collect()
}

fn generate_account_id() -> String {
    // AWS account IDs do not start with 0 in practice; keep ours looking alike.
    format!("{}{}", random_from(b"123456789", 1), random_from(b"0123456789", 11))
}

fn generate_access_key_id() -> String {
    format!("AKIA{}", random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

fn generate_secret() -> String {
    random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}
