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
/// `<dir>/plugboard.pub`, creating `dir` (mode 0700) if it does not exist;
/// refuses to overwrite either file. Returns both paths.
///
/// # Errors
///
/// A file exists already, or cannot be written.
pub fn write_keypair(dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    let (secret, public) = generate_keypair()?;
    if !dir.is_dir() {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create {}: {e}", crate::display::path(dir)),
            )
        })?;
    }
    let secret_path = dir.join("plugboard.key");
    let public_path = dir.join("plugboard.pub");
    for p in [&secret_path, &public_path] {
        if p.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists already; not overwriting a key",
                    crate::display::path(p)
                ),
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

/// Why a signature does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The public key is not 64 hex digits of an ed25519 key.
    #[error("not a public key (64 hex digits)")]
    BadKey,
    /// The file or its signature could not be read.
    #[error("cannot read {}: {cause}", crate::display::path(path))]
    Unreadable {
        /// The file that could not be read.
        path: PathBuf,
        /// The operating system's error.
        cause: io::Error,
    },
    /// The signature file does not hold a signature.
    #[error("the .sig file does not hold an ed25519 signature in hex")]
    Malformed,
    /// The signature does not match the file and the key.
    #[error("the signature does not verify: the file or its signature was changed, or it was signed with another key")]
    Mismatch,
}

/// Checks the detached signature `<library>.sig` of `library` against the
/// hex public key.
///
/// # Errors
///
/// [`VerifyError`]: a malformed key or signature, an unreadable file, or a
/// signature that does not verify.
pub fn verify_file(public_key_hex: &str, library: &Path) -> Result<(), VerifyError> {
    let key: [u8; 32] = unhex(public_key_hex.trim())
        .and_then(|v| v.try_into().ok())
        .ok_or(VerifyError::BadKey)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| VerifyError::BadKey)?;
    let read = |path: &Path| {
        fs::read(path).map_err(|cause| VerifyError::Unreadable {
            path: path.to_owned(),
            cause,
        })
    };
    let bytes = read(library)?;
    let sig_path = signature_path(library);
    let text = read(&sig_path)?;
    let raw = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| unhex(t.trim()))
        .ok_or(VerifyError::Malformed)?;
    let signature =
        ed25519_dalek::Signature::from_slice(&raw).map_err(|_| VerifyError::Malformed)?;
    key.verify_strict(&bytes, &signature)
        .map_err(|_| VerifyError::Mismatch)
}
