//! The evolution rules of an interface: `#[since]` versions within the
//! interface's compatibility range, after its first release, in order.

use syn::{Ident, ItemTrait, TraitItem, TraitItemFn};

use super::method::Method;

/// The first release of `version`'s compatibility range: `x.0.0`, or
/// `0.y.0` for a 0.x version.
fn first_release(version: &semver::Version) -> semver::Version {
    if version.major == 0 {
        semver::Version::new(0, version.minor, 0)
    } else {
        semver::Version::new(version.major, 0, 0)
    }
}

/// Checks the `#[since]` versions against the interface version and their
/// order.
pub(super) fn check_evolution(
    item: &ItemTrait,
    version: &semver::Version,
    methods: &[Method],
) -> syn::Result<()> {
    let first = first_release(version);
    let mut last_since: Option<(semver::Version, &Ident)> = None;
    let fns: Vec<&TraitItemFn> = item
        .items
        .iter()
        .filter_map(|i| match i {
            TraitItem::Fn(f) => Some(f),
            _ => None,
        })
        .collect();
    for (method, _) in methods.iter().zip(fns) {
        match &method.since {
            None => {
                if let Some((since, later)) = &last_since {
                    return Err(syn::Error::new_spanned(
                        &method.ident,
                        format!(
                            "`{}` has no #[since] but comes after `{later}` (#[since(\"{since}\")]): the methods of the first release come first, and methods added later follow them in version order",
                            method.ident
                        ),
                    ));
                }
            }
            Some(since_text) => {
                let since = semver::Version::parse(since_text).expect("checked when parsed");
                let span = &method.ident;
                if since > *version {
                    return Err(syn::Error::new_spanned(
                        span,
                        format!("`{}` is #[since(\"{since}\")], after the interface's own version {version}: raise the interface version to {since} or later", method.ident),
                    ));
                }
                if first_release(&since) != first {
                    return Err(syn::Error::new_spanned(
                        span,
                        format!("`{}` is #[since(\"{since}\")], which is not compatible with the interface's version {version}: a method from another major version is a breaking change", method.ident),
                    ));
                }
                if since == first {
                    return Err(syn::Error::new_spanned(
                        span,
                        format!("`{}` is #[since(\"{since}\")], the first release: methods of the first release need no #[since]", method.ident),
                    ));
                }
                if let Some((previous, earlier)) = &last_since {
                    if since < *previous {
                        return Err(syn::Error::new_spanned(
                            span,
                            format!("`{}` (#[since(\"{since}\")]) comes after `{earlier}` (#[since(\"{previous}\")]): methods follow each other in version order", method.ident),
                        ));
                    }
                }
                last_since = Some((since, &method.ident));
            }
        }
    }
    Ok(())
}

/// The trait with its `#[since]` attributes removed (what is emitted beside
/// an error).
pub(crate) fn without_since(mut item: ItemTrait) -> ItemTrait {
    for trait_item in &mut item.items {
        if let TraitItem::Fn(f) = trait_item {
            f.attrs.retain(|a| !a.path().is_ident("since"));
        }
    }
    item
}
