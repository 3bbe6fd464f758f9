//! The attribute's arguments: `#[interface(version = "1.1.0", name = "...")]`.

use proc_macro2::Span;
use syn::{
    parse::{Parse, ParseStream},
    Ident, LitStr, Token,
};

/// `#[interface(version = "1.1.0", name = "Transformer")]`
pub(crate) struct Args {
    pub(super) version: LitStr,
    pub(super) name: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut version = None;
        let mut name = None;
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: LitStr = input.parse()?;
            match key.to_string().as_str() {
                "version" => version = Some(value),
                "name" => name = Some(value),
                _ => {
                    return Err(syn::Error::new_spanned(
                        key,
                        "unknown argument: #[interface] takes `version = \"x.y.z\"` and, optionally, `name = \"...\"`",
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let version = version.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                "#[interface] needs the interface's version: #[interface(version = \"1.0.0\")]",
            )
        })?;
        Ok(Self { version, name })
    }
}
