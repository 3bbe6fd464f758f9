//! What cannot cross, said at the user's span: the error for an unsupported
//! type, the `Result<T, PluginError>` rule, and the `StableAbi` check the
//! expansion makes of every type that crosses as itself.

use proc_macro2::TokenStream;
use quote::{quote_spanned, ToTokens};
use syn::{spanned::Spanned, Type};

use super::{generic_args, pb};

/// The list every "unsupported type" error ends with.
pub(crate) const SUPPORTED: &str = "supported: integers (up to 64 bits), f32, f64, bool, char, &str, String, &[T], Vec<T>, Option<T>, Result<T, PluginError>, tuples of up to 4 of these, abi_stable's R-types, and types that #[derive(StableAbi)]";

pub(super) fn unsupported(ty: &impl ToTokens, why: &str) -> syn::Error {
    let shown = ty
        .to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&");
    syn::Error::new_spanned(
        ty,
        format!("`{shown}` cannot cross the plugin boundary{why}; {SUPPORTED}"),
    )
}

/// Whether `ty` names `PluginError` (as `PluginError` or a path ending in it).
pub(crate) fn is_plugin_error(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "PluginError" && s.arguments.is_empty()),
        Type::Group(g) => is_plugin_error(&g.elem),
        Type::Paren(p) => is_plugin_error(&p.elem),
        _ => false,
    }
}

/// `Result<T, PluginError>` → `Some(T)`; another `Result` is an error.
pub(crate) fn result_ok_type(ty: &Type) -> syn::Result<Option<&Type>> {
    let Type::Path(p) = ty else { return Ok(None) };
    let Some(last) = p.path.segments.last() else {
        return Ok(None);
    };
    if last.ident != "Result" || p.qself.is_some() {
        return Ok(None);
    }
    match generic_args(last).as_slice() {
        [ok, err] if is_plugin_error(err) => Ok(Some(ok)),
        [_, err] => Err(syn::Error::new_spanned(
            err,
            "an interface method's `Result` must use `PluginError` as its error type (build one with `PluginError::failed(\"...\")`)",
        )),
        _ => Err(syn::Error::new_spanned(
            ty,
            "write `Result<T, PluginError>` in full (a `Result` alias cannot cross the plugin boundary)",
        )),
    }
}

/// A `StableAbi` check with a clear message for a type that crosses as
/// itself.
pub(crate) fn check_crosses(ty: &Type) -> TokenStream {
    let pb = pb();
    quote_spanned! {ty.span()=>
        #pb::require_stable_abi::<#ty, _>((&&#pb::StableProbe::<#ty>::new()).verdict());
    }
}
