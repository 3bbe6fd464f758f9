//! The procedural macros of plugboard. Use them through `plugboard-interface`
//! (`plugboard_interface::interface`, `plugboard_interface::export_plugins!`),
//! whose documentation describes them in full, with examples.

use proc_macro::TokenStream;

mod export;
mod interface;
mod types;

/// Declares a plugin interface: a plain Rust trait that plugins implement
/// and hosts call, with everything the plugin boundary needs generated.
///
/// See `plugboard_interface::interface` for the full documentation: an
/// example, the supported types and the evolution rules.
#[proc_macro_attribute]
pub fn interface(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(args as interface::Args);
    let item = syn::parse_macro_input!(item as syn::ItemTrait);
    interface::expand(args, item.clone())
        .unwrap_or_else(|error| {
            // The trait itself still compiles, so the mistake is the only
            // error the user sees.
            let mut tokens = error.into_compile_error();
            quote::ToTokens::to_tokens(&interface::without_since(item), &mut tokens);
            tokens
        })
        .into()
}

/// Exports a plugin library: its handshake, metadata and plugins.
///
/// See `plugboard_interface::export_plugins!` for the full documentation.
#[proc_macro]
pub fn export_plugins(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as export::Input);
    export::expand(input).into()
}
