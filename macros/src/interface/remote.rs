//! How a remote object (a plugin in another process, see `Remote`) runs
//! each method: the arguments written, the call made through its link, the
//! result read back.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use super::method::Method;
use crate::types::Param;

/// How a remote object (a plugin in another process) runs method `m`:
/// writes the arguments, makes the call through its link, reads the
/// result back.
pub(super) fn remote_method(m: &Method, implement: &TokenStream) -> TokenStream {
    let pb = quote!(::plugboard_interface::__private);
    let pi = quote!(::plugboard_interface);
    let ident = &m.ident;
    let name = ident.to_string();
    let index = m.index as u32;
    let this_ty = if m.exclusive {
        quote!(&mut #pi::Remote)
    } else {
        quote!(&#pi::Remote)
    };
    let arg_names: Vec<Ident> = (0..m.params.len())
        .map(|i| format_ident!("a{}", i))
        .collect();
    let body = if m.ret.is_borrow() {
        quote!(::core::result::Result::Err(#pb::borrow_cannot_travel(#name)))
    } else {
        let raised = m
            .params
            .iter()
            .zip(&arg_names)
            .map(|((_, _, p), a)| p.raise(quote!(#a)));
        let encode = m.params.iter().zip(&arg_names).map(|((_, ty, p), a)| match p {
            Param::Value(_) => quote! {
                (&&#pb::Probe::<#ty>::new()).write(&#a, encoder.serializer()).map_err(#pb::cannot_travel)?;
            },
            Param::Str => quote!(encoder.str(#a)?;),
            Param::RStr => quote!(encoder.str(#a.as_str())?;),
            Param::Slice(elem) | Param::SliceCopied(elem) => {
                let elem = elem.written();
                quote! {
                    (&&#pb::Probe::<#elem>::new()).write_slice(&#a[..], encoder.serializer()).map_err(#pb::cannot_travel)?;
                }
            }
            Param::RSlice(elem) => {
                let elem = elem.written();
                quote! {
                    (&&#pb::Probe::<#elem>::new()).write_slice(#a.as_slice(), encoder.serializer()).map_err(#pb::cannot_travel)?;
                }
            }
        });
        let ret_owned = &m.ret_written;
        let lowered = m.ret.lower(quote!(value));
        quote! {
            let (#(#arg_names,)*) = args;
            #(let #arg_names = #raised;)*
            let mut encoder = #pb::Encoder::new();
            #(#encode)*
            let out = this.call(#index, encoder.finish()?)?;
            let value: #ret_owned = (&&#pb::Probe::<#ret_owned>::new())
                .read(#name, &mut #pb::decoder(&out))
                .map_err(#pb::cannot_travel)?;
            ::core::result::Result::Ok(#lowered)
        }
    };
    quote! {
        impl #pb::#implement<#pi::Remote> for m::#ident {
            fn run(
                this: #this_ty,
                args: <Self::Args as #pb::FfiValue>::View<'_>,
            ) -> ::core::result::Result<Self::Ret, #pi::PluginError> {
                use #pb::{CanTravel as _, CannotTravel as _};
                #body
            }
        }
    }
}
