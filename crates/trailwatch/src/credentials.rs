//! The account and its root credentials: given by configuration, or generated at first
//! start; kept in the catalog (so every node of a cluster serves the same account) with
//! the secret sealed under the master key, and shown once.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use store::Store;

use crate::config::Settings;

/// Where the account lived before the catalog kept it: read once, then moved.
const LEGACY_FILE: &str = "account.json";
/// The catalog's deployment setting holding the account.
const SETTING: &str = "account";
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
pub async fn load_or_create(settings: &Settings, store: &Store) -> anyhow::Result<Account> {
    let stored = match store.deployment_setting(SETTING).await? {
        Some(text) => Some(serde_json::from_str::<Stored>(&text).context("the stored account")?),
        None => read_legacy(&settings.data_dir.join(LEGACY_FILE))?,
    };
    let account_id =
        settings.account_id.clone().or_else(|| stored.as_ref().map(|s| s.account_id.clone())).unwrap_or_else(generate_account_id);
    if let (Some(id), Some(secret)) = (&settings.root_access_key_id, &settings.root_secret_access_key) {
        store.set_deployment_setting(SETTING, &sealed(store, &account_id, id, secret)?).await?;
        return Ok(Account { account_id, access_key_id: id.clone(), secret: iam::Secret::new(secret.clone()) });
    }
    if let Some(s) = stored {
        let secret = open(store, &s)?;
        if s.account_id != account_id || store.deployment_setting(SETTING).await?.is_none() {
            store.set_deployment_setting(SETTING, &sealed(store, &account_id, &s.access_key_id, &secret)?).await?;
        }
        return Ok(Account { account_id, access_key_id: s.access_key_id, secret: iam::Secret::new(secret) });
    }
    // The first node to start creates the account; one starting at the same moment
    // finds the winner's and serves that.
    let (id, secret) = (generate_access_key_id(), generate_secret());
    let held: Stored = serde_json::from_str(&store.init_deployment_setting(SETTING, &sealed(store, &account_id, &id, &secret)?).await?)?;
    if held.access_key_id == id {
        show_once(settings, &account_id, &id, &secret);
    }
    let secret = open(store, &held)?;
    Ok(Account { account_id: held.account_id, access_key_id: held.access_key_id, secret: iam::Secret::new(secret) })
}

fn read_legacy(path: &Path) -> anyhow::Result<Option<Stored>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(&std::fs::read(path)?).with_context(|| format!("reading {}", path.display()))?))
}

fn open(store: &Store, s: &Stored) -> anyhow::Result<String> {
    let secret =
        store.open_secret(PURPOSE, &hex::decode(&s.sealed_secret)?).context("the root secret does not open with this master key")?;
    Ok(String::from_utf8(secret)?)
}

fn sealed(store: &Store, account_id: &str, access_key_id: &str, secret: &str) -> anyhow::Result<String> {
    let stored = Stored {
        account_id: account_id.to_owned(),
        access_key_id: access_key_id.to_owned(),
        sealed_secret: hex::encode(store.seal_secret(PURPOSE, secret.as_bytes())),
    };
    Ok(serde_json::to_string(&stored)?)
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
