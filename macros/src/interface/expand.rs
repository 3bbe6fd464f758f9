//! The expansion of `#[interface]`: the trait checked and its methods
//! parsed, then the trait and, in an anonymous `const _: () = { ... };`
//! block, everything the plugin boundary needs (see the module docs of
//! `interface`); the code of each method comes from [`MethodCode`].

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemTrait, LitStr, TraitItem, TypeParamBound};

use super::{
    evolution::check_evolution,
    method::{parse_method, parse_version},
    method_code::MethodCode,
    Args,
};

/// The interface's thread-safety marker, from its supertraits, and whether
/// it requires `Send`.
fn thread_marker(item: &ItemTrait) -> syn::Result<(TokenStream, bool)> {
    let (mut send, mut sync) = (false, false);
    for bound in &item.supertraits {
        match bound {
            TypeParamBound::Trait(t) if t.path.is_ident("Send") => send = true,
            TypeParamBound::Trait(t) if t.path.is_ident("Sync") => sync = true,
            TypeParamBound::Lifetime(l) if l.ident == "static" => {}
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "an interface's supertraits can only be `Send` and `Sync`: other traits cannot be called across the plugin boundary",
                ))
            }
        }
    }
    Ok(match (send, sync) {
        (true, true) => (
            quote!(::plugboard_interface::__private::threads::SendSync),
            true,
        ),
        (true, false) => (
            quote!(::plugboard_interface::__private::threads::SendOnly),
            true,
        ),
        (false, true) => {
            return Err(syn::Error::new_spanned(
                &item.supertraits,
                "an interface that is `Sync` must also be `Send`",
            ))
        }
        (false, false) => (
            quote!(::plugboard_interface::__private::threads::Local),
            false,
        ),
    })
}

/// The trait and everything `#[interface]` generates for it.
pub(crate) fn expand(args: Args, mut item: ItemTrait) -> syn::Result<TokenStream> {
    let version = parse_version(&args.version, "the interface version")?;
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "an interface trait cannot be generic",
        ));
    }
    if let Some(u) = &item.unsafety {
        return Err(syn::Error::new_spanned(
            u,
            "an interface trait cannot be `unsafe`",
        ));
    }
    if let Some(a) = &item.auto_token {
        return Err(syn::Error::new_spanned(
            a,
            "an interface trait cannot be `auto`",
        ));
    }
    let (threads, is_send) = thread_marker(&item)?;
    let mut methods = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for trait_item in &mut item.items {
        let result = match trait_item {
            TraitItem::Fn(f) => parse_method(f, methods.len()).map(|m| methods.push(m)),
            other => Err(syn::Error::new_spanned(
                other,
                "an interface trait holds only methods (no associated types, constants or macros)",
            )),
        };
        if let Err(e) = result {
            match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            }
        }
    }
    if let Some(errors) = errors {
        return Err(errors);
    }
    check_evolution(&item, &version, &methods)?;

    let trait_ident = &item.ident;
    let interface_name = args
        .name
        .as_ref()
        .map_or_else(|| trait_ident.to_string(), LitStr::value);
    let version_text = version.to_string();
    let pb = quote!(::plugboard_interface::__private);
    let pi = quote!(::plugboard_interface);
    let st = quote!(::plugboard_interface::__private::abi_stable::std_types);
    let count = methods.len();

    let markers = methods.iter().map(|m| &m.ident);
    let code: Vec<MethodCode> = methods.iter().map(|m| MethodCode::new(m, &item)).collect();
    let specs = code.iter().map(|c| &c.spec);
    let implements = code.iter().map(|c| &c.implement);
    let slots = code.iter().map(|c| &c.slot);
    let remotes = code.iter().map(|c| &c.remote);
    let remote_slots = code.iter().map(|c| &c.remote_slot);
    let handle_methods = code.iter().map(|c| &c.handle_method);
    let trait_methods = code.iter().map(|c| &c.trait_method);
    let infos = code.iter().map(|c| &c.info);
    let invokes = code.iter().map(|c| &c.invoke);
    let travels = code.iter().map(|c| &c.travels);
    let checks = code.iter().flat_map(|c| &c.checks);
    let optional = code.iter().filter_map(|c| c.optional.as_ref());

    let optional_methods = quote!(&[#(#optional),*]);
    let serve_fn = if is_send {
        quote! {
            fn serve(object: #pb::RawObject<#threads>) -> ::core::option::Option<#pi::Served> {
                ::core::option::Option::Some(#pi::Served::new(object))
            }
        }
    } else {
        quote!()
    };
    let trait_docs = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect::<Vec<_>>();
    let handle_doc = format!(
        "A `{interface_name}` plugin as a host holds it: `Plugin<dyn {trait_ident}>` dereferences to it. Its methods (and its implementation of `{trait_ident}`) call the plugin."
    );

    Ok(quote! {
        #item

        #[allow(non_snake_case, non_camel_case_types, unused_variables, clippy::all, clippy::pedantic, unreachable_pub, missing_docs)]
        const _: () = {
            /// One marker type per method.
            mod m {
                #(pub struct #markers;)*
            }

            #(#specs)*
            #(#implements)*

            /// The vtable of `T`'s implementation.
            pub struct Vt<T>(::core::marker::PhantomData<T>);

            impl<T: #trait_ident + 'static> Vt<T> {
                pub const VTABLE: &'static #pb::VTable<T, #count> =
                    &#pb::VTable::new(&TABLE, [#(#slots),*]);
            }

            #(#remotes)*

            /// The vtable of objects in another process.
            const REMOTE_VTABLE: &'static #pb::VTable<#pi::Remote, #count> =
                &#pb::VTable::new(&TABLE, [#(#remote_slots),*]);

            extern "C" fn serializable(method: u32) -> bool {
                use #pb::{CanTravel as _, CannotTravel as _};
                match method {
                    #(#travels)*
                    _ => false,
                }
            }

            /// The interface's method table.
            pub static TABLE: #pi::MethodTable = #pi::MethodTable {
                interface: #st::RStr::from_str(#interface_name),
                version: #st::RStr::from_str(#version_text),
                methods: #st::RSlice::from_slice(&[#(#infos),*]),
                serializable,
                invoke: #pb::invoke_raw::<dyn #trait_ident, #threads>,
            };

            #[doc = #handle_doc]
            #(#trait_docs)*
            pub struct Handle {
                obj: #pi::Checked<dyn #trait_ident>,
                meta: &'static #pi::PluginMeta,
            }

            impl Handle {
                #(#handle_methods)*
            }

            impl #trait_ident for Handle {
                #(#trait_methods)*
            }

            impl ::core::fmt::Debug for Handle {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#interface_name).field("plugin", &self.meta.name).finish_non_exhaustive()
                }
            }

            const _: () = {
                use #pb::{StableVerdict as _, UnstableVerdict as _};
                #[allow(dead_code)]
                fn check() {
                    #(#checks)*
                }
            };

            impl #pi::PluginInterface for dyn #trait_ident {
                const NAME: &'static str = #interface_name;
                const VERSION: &'static str = #version_text;
                const OPTIONAL_METHODS: &'static [(&'static str, &'static str)] = #optional_methods;
                const METHODS: ::core::option::Option<&'static #pi::MethodTable> =
                    ::core::option::Option::Some(&TABLE);
                type Object = #pb::RawObject<#threads>;
                type Handle = Handle;

                fn wrap(object: #pi::Checked<Self>, meta: &'static #pi::PluginMeta) -> Handle {
                    Handle { obj: object, meta }
                }

                fn unwrap(handle: Handle) -> #pi::Checked<Self> {
                    handle.obj
                }


                fn remote(remote: #pi::Remote) -> ::core::option::Option<#pb::RawObject<#threads>> {
                    ::core::option::Option::Some(#pb::RawObject::new(remote, REMOTE_VTABLE))
                }

                #serve_fn

                fn invoke<'de, D, S>(
                    handle: &mut Handle,
                    method: usize,
                    args: D,
                    out: S,
                ) -> ::core::result::Result<S::Ok, #pi::InvokeError>
                where
                    D: #pb::serde::Deserializer<'de>,
                    S: #pb::serde::Serializer,
                {
                    use #pb::{CanTravel as _, CannotTravel as _};
                    let _ = &args;
                    match method {
                        #(#invokes)*
                        index => ::core::result::Result::Err(#pi::InvokeError::NoSuchMethod {
                            interface: #interface_name,
                            index,
                        }),
                    }
                }
            }

            impl<T: #trait_ident + 'static> #pi::Exports<T> for dyn #trait_ident {
                fn export(value: T) -> #pb::RawObject<#threads> {
                    #pb::RawObject::new(value, Vt::<T>::VTABLE)
                }
            }
        };
    })
}
