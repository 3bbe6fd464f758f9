//! Makes `abi_stable`'s layout-checker reports readable.
//!
//! A layout mismatch prints hundreds of lines; [`summarize`] keeps the first
//! mismatch, with where it is (type and field path) and what was expected
//! and found, on one line. The full report stays available for `--verbose`.

use abi_stable::{
    abi_stability::abi_checking::{AbiInstability, AbiInstabilityError, AbiInstabilityErrors},
    type_layout::TLFieldOrFunction,
};

/// The first mismatch of a layout check, on one line:
/// ``at `Greeter_TO.obj.vtable.greet`: mismatched type: expected `u64`, found `RStr`.``
///
/// A vtable with fewer methods than the host's ("too many fields") is what an
/// older minor looks like, and not the interesting part when something else
/// differs too: other mismatches are preferred.
pub(crate) fn summarize(errors: &AbiInstabilityErrors) -> String {
    let only_field_count = |e: &&AbiInstabilityError| {
        e.errs
            .iter()
            .all(|i| matches!(i, AbiInstability::FieldCountMismatch(_)))
    };
    let nonempty = || errors.errors.iter().filter(|e| !e.errs.is_empty());
    let Some(first) = nonempty()
        .find(|e| !only_field_count(e))
        .or_else(|| nonempty().next())
    else {
        return "the type layouts differ".to_owned();
    };
    let mut location = vec![errors.interface.name()];
    location.extend(first.stack_trace.iter().map(|step| match &step.found {
        TLFieldOrFunction::Field(field) => field.name(),
        TLFieldOrFunction::Function(function) => function.name.as_str(),
    }));
    location.dedup();
    format!(
        "at `{}`: {}",
        location.join("."),
        first_error_block(&first.to_string())
    )
}

/// Turns the first `Error:<what> / Expected: <x> / Found: <y>` block of an
/// `abi_stable` error report into `<what>: expected `x`, found `y``.
fn first_error_block(report: &str) -> String {
    let mut lines = report
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Error:"));
    let Some(head) = lines.next() else {
        return "the type layouts differ".to_owned();
    };
    let what = head.trim().trim_start_matches("Error:").trim().to_owned();
    let mut expected = None;
    let mut found = None;
    let mut slot: Option<&mut Option<String>> = None;
    for line in lines {
        let trimmed = line.trim();
        if trimmed.starts_with("Error:") {
            break;
        }
        match trimmed {
            "Expected:" => slot = Some(&mut expected),
            "Found:" => slot = Some(&mut found),
            "" => {}
            value => {
                if let Some(target) = slot.take() {
                    *target = Some(shorten(value));
                }
            }
        }
    }
    match (expected, found) {
        (Some(e), Some(f)) => format!("{what}: expected `{e}`, found `{f}`"),
        _ => what,
    }
}

fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    let value = value.trim_start_matches("field_name:");
    if value.len() <= MAX {
        return value.to_owned();
    }
    let cut = (0..=MAX)
        .rev()
        .find(|&i| value.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}…", &value[..cut])
}

#[cfg(test)]
mod tests {
    use super::first_error_block;

    #[test]
    fn reads_the_first_error_block() {
        let report = "1 error(s).\n\nError:mismatched package\nExpected:\n    plugboard-demo\nFound:\n    fake\n\nError:other\n";
        assert_eq!(
            first_error_block(report),
            "mismatched package: expected `plugboard-demo`, found `fake`"
        );
    }

    #[test]
    fn without_an_error_block_says_so() {
        assert_eq!(first_error_block("nothing here"), "the type layouts differ");
    }
}
