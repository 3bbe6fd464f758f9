//! The process-level baseline of the loading benchmark: a program that only
//! `dlopen`s every library of a folder (`*.so`, `*.dylib` or `*.dll`, the
//! platform's, as plugboard discovers them; sorted, as plugboard loads them)
//! and looks up plugboard's root symbol in each — no vetting, no copy, no
//! checks. The benchmark times it against the demo application's `list`
//! over the same folder.
//!
//! `dlopen_all <folder>`

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: dlopen_all <folder>");
        return ExitCode::from(2);
    };
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
            })
            .collect(),
        Err(e) => {
            eprintln!("cannot read the folder: {e}");
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    let symbol = plugboard_interface::__private::ROOT_SYMBOL.as_bytes();
    for file in &files {
        // SAFETY: the benchmark's own fixture libraries; loading runs their
        // constructors, which is what is measured. Never unloaded.
        let library = match unsafe { libloading::Library::new(file) } {
            Ok(library) => Box::leak(Box::new(library)),
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                return ExitCode::FAILURE;
            }
        };
        // SAFETY: only the symbol's address is looked up, never used.
        if unsafe { library.get::<*const u8>(symbol) }.is_err() {
            eprintln!("{}: no root module", file.display());
            return ExitCode::FAILURE;
        }
    }
    println!("{} libraries opened", files.len());
    ExitCode::SUCCESS
}
