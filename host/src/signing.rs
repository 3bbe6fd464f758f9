//! ed25519 keys and detached signatures for plugin libraries: what
//! `plugboard keygen` and `plugboard sign` do, and what a host configured
//! with [`PluginHostBuilder::trust_key`](crate::PluginHostBuilder::trust_key)
//! checks. Keys and signatures are stored as lower-case hex text.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use ed25519_dalek::{Signer, SigningKey};

use crate::vet::{hex, signature_path, unhex};

/// A new key pair: (secret key, public key), both in hex.
///
/// # Errors
///
/// The operating system's random source failed.
pub fn generate_keypair() -> io::Result<(String, String)> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| io::Error::other(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    Ok((hex(&key.to_bytes()), hex(key.verifying_key().as_bytes())))
}

/// Writes a key pair as `<dir>/plugboard.key` (secret, mode 0600) and
/// `<dir>/plugboard.pub`; refuses to overwrite either. Returns both paths.
///
/// # Errors
///
/// A file exists already, or cannot be written.
pub fn write_keypair(dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    let (secret, public) = generate_keypair()?;
    let secret_path = dir.join("plugboard.key");
    let public_path = dir.join("plugboard.pub");
    for p in [&secret_path, &public_path] {
        if p.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists already; not overwriting a key", p.display()),
            ));
        }
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&secret_path)?
        .write_all(format!("{secret}\n").as_bytes())?;
    fs::write(&public_path, format!("{public}\n"))?;
    Ok((secret_path, public_path))
}

/// Signs the file at `library` with the hex secret key, writing the
/// detached signature to `<library>.sig`; returns that path.
///
/// # Errors
///
/// The key is not 64 hex digits, or a file cannot be read or written.
pub fn sign_file(secret_key_hex: &str, library: &Path) -> io::Result<PathBuf> {
    let seed: [u8; 32] = unhex(secret_key_hex.trim())
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "a secret key is 64 hex digits")
        })?;
    let key = SigningKey::from_bytes(&seed);
    let bytes = fs::read(library)?;
    let signature = key.sign(&bytes);
    let sig_path = signature_path(library);
    fs::write(&sig_path, format!("{}\n", hex(&signature.to_bytes())))?;
    Ok(sig_path)
}
