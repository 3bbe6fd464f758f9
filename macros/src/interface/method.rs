//! One method of the trait as `#[interface]` understands it: its receiver,
//! its parameters and result classified (see `crate::types`), its `#[since]`
//! version and its signature as text.

use quote::ToTokens;
use syn::{Attribute, FnArg, Ident, LitStr, Pat, ReturnType, TraitItemFn, Type};

use crate::types::{result_ok_type, Param, Ret};

/// One method, as understood.
pub(super) struct Method {
    pub(super) ident: Ident,
    pub(super) index: usize,
    pub(super) since: Option<String>,
    pub(super) exclusive: bool,
    pub(super) fallible: bool,
    pub(super) params: Vec<(String, Type, Param)>,
    pub(super) ret_written: Type,
    pub(super) ret: Ret,
    pub(super) docs: Vec<Attribute>,
    pub(super) signature: String,
}

pub(super) fn parse_version(lit: &LitStr, what: &str) -> syn::Result<semver::Version> {
    semver::Version::parse(&lit.value()).map_err(|e| {
        syn::Error::new_spanned(
            lit,
            format!(
                "{what} `{}` is not a semantic version ({e}); write it like \"1.2.0\"",
                lit.value()
            ),
        )
    })
}

/// A type or signature as text, spaced like rustfmt would.
pub(super) fn render(tokens: &impl ToTokens) -> String {
    let mut text = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("( ", "("),
        (" )", ")"),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        (" :", ":"),
        ("- >", "->"),
        ("mut self", "mut self"),
    ] {
        text = text.replace(from, to);
    }
    text
}

pub(super) fn parse_method(item: &mut TraitItemFn, index: usize) -> syn::Result<Method> {
    let mut since = None;
    let mut error = None;
    item.attrs.retain(|attr| {
        if !attr.path().is_ident("since") {
            return true;
        }
        match attr.parse_args::<LitStr>() {
            Ok(lit) => since = Some(lit),
            Err(_) => {
                error = Some(syn::Error::new_spanned(
                    attr,
                    "write the version a method arrived in as #[since(\"1.1.0\")]",
                ))
            }
        }
        false
    });
    if let Some(error) = error {
        return Err(error);
    }
    let sig = &item.sig;
    let unsupported = |span: &dyn ToTokens, what: &str| {
        Err(syn::Error::new_spanned(
            span,
            format!("an interface method cannot be {what}: plugins in other binaries call it through a C-compatible vtable"),
        ))
    };
    if let Some(c) = &sig.constness {
        return unsupported(c, "`const`");
    }
    if let Some(a) = &sig.asyncness {
        return unsupported(a, "`async`");
    }
    if let Some(u) = &sig.unsafety {
        return unsupported(u, "`unsafe`");
    }
    if let Some(abi) = &sig.abi {
        return unsupported(abi, "`extern`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return unsupported(
            &sig.generics,
            "generic (no type, lifetime or const parameters)",
        );
    }
    if let Some(v) = &sig.variadic {
        return unsupported(v, "variadic");
    }
    let mut inputs = sig.inputs.iter();
    let exclusive = match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.colon_token.is_none() => {
            if let Some((_, Some(lifetime))) = &r.reference {
                return Err(syn::Error::new_spanned(
                    lifetime,
                    "write `&self` or `&mut self`, without a lifetime",
                ));
            }
            r.mutability.is_some()
        }
        Some(other) => {
            return Err(syn::Error::new_spanned(
                other,
                "an interface method takes `&self` or `&mut self` (the plugin keeps the object)",
            ))
        }
        None => {
            return Err(syn::Error::new_spanned(
                &sig.ident,
                "an interface method takes `&self` or `&mut self`; a function without `self` cannot be called on a plugin",
            ))
        }
    };
    let mut params = Vec::new();
    for (i, input) in inputs.enumerate() {
        let FnArg::Typed(pat) = input else {
            unreachable!("only the first input can be a receiver")
        };
        let name = match &*pat.pat {
            Pat::Ident(p) => p.ident.to_string(),
            _ => format!("arg{i}"),
        };
        let param = Param::parse(&pat.ty)?;
        params.push((name, (*pat.ty).clone(), param));
    }
    if params.len() > 8 {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "an interface method takes at most 8 parameters; group them in a struct or tuple",
        ));
    }
    let (fallible, ret_written, ret) = match &sig.output {
        ReturnType::Default => (false, syn::parse_quote!(()), Ret::unit(sig.ident.span())),
        ReturnType::Type(_, ty) => match result_ok_type(ty)? {
            Some(ok) => (true, ok.clone(), Ret::parse(ok)?),
            None => (false, (**ty).clone(), Ret::parse(ty)?),
        },
    };
    let since_version = match &since {
        Some(lit) => {
            if !fallible {
                return Err(syn::Error::new_spanned(
                    &sig.output,
                    format!(
                        "a #[since] method must return `Result<_, PluginError>`, so that a plugin built before `{}` existed can report it missing",
                        sig.ident
                    ),
                ));
            }
            Some((lit.clone(), parse_version(lit, "the #[since] version")?))
        }
        None => None,
    };
    let docs = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect();
    let receiver = if exclusive { "&mut self" } else { "&self" };
    let mut signature = format!("fn {}({receiver}", sig.ident);
    for (name, ty, _) in &params {
        signature.push_str(&format!(", {name}: {}", render(ty)));
    }
    signature.push(')');
    if let ReturnType::Type(_, ty) = &sig.output {
        signature.push_str(&format!(" -> {}", render(ty)));
    }
    Ok(Method {
        ident: sig.ident.clone(),
        index,
        since: since_version.map(|(_, v)| v.to_string()),
        exclusive,
        fallible,
        params,
        ret_written,
        ret,
        docs,
        signature,
    })
}
