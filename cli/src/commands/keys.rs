//! `keygen`, `sign`, `verify`: ed25519 keys and detached signatures for
//! plugin files.

use plugboard_host::signing;

use crate::{
    args::{KeygenArgs, SignArgs, VerifyArgs},
    output, Failure,
};

pub(crate) fn keygen(args: &KeygenArgs) -> Result<(), Failure> {
    let (secret, public) = signing::write_keypair(&args.out)?;
    println!("secret key: {} (keep it private)", output::path(&secret));
    println!(
        "public key: {} (give it to hosts: --trusted-key)",
        output::path(&public)
    );
    Ok(())
}

pub(crate) fn sign(args: &SignArgs) -> Result<(), Failure> {
    let secret = read_key(&args.key)?;
    for file in &args.files {
        let sig = signing::sign_file(&secret, file)
            .map_err(|e| Failure::Failed(format!("cannot sign {}: {e}", output::path(file))))?;
        println!("signed {} -> {}", output::path(file), output::path(&sig));
    }
    Ok(())
}

pub(crate) fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let public = read_key(&args.key)?;
    let mut bad = 0;
    for file in &args.files {
        match signing::verify_file(&public, file) {
            Ok(()) => println!("good    {}", output::path(file)),
            Err(e) => {
                bad += 1;
                println!("bad     {}: {e}", output::path(file));
            }
        }
    }
    if bad == 0 {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

fn read_key(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Failed(format!("cannot read the key {}: {e}", output::path(path))))
}
