//! `#[interface]`: a plain Rust trait in, the trait plus everything the
//! plugin boundary needs out.
//!
//! For `trait Transformer` it generates, beside the trait (with `#[since]`
//! attributes removed), an anonymous `const _: () = { ... };` block (so names
//! resolve exactly as in the trait, in a module or in a function) holding:
//! one marker type per method and its `MethodSpec` (index, name, since,
//! packed argument and result types), how any `T: Transformer` runs each
//! method (`Implement`), the vtable for each `T`, the interface's
//! `MethodTable`, and `Handle`: the host's side, which implements
//! `Transformer` by calling through the vtable. Then the
//! `PluginInterface` and `Exports<T>` impls for `dyn Transformer`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use syn::{
    parse::{Parse, ParseStream},
    Attribute, FnArg, Ident, ItemTrait, LitStr, Pat, ReturnType, Token, TraitItem, TraitItemFn,
    Type, TypeParamBound,
};

use crate::types::{check_crosses, result_ok_type, Param, Ret};

/// `#[interface(version = "1.1.0", name = "Transformer")]`
pub(crate) struct Args {
    version: LitStr,
    name: Option<LitStr>,
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

/// One method, as understood.
struct Method {
    ident: Ident,
    index: usize,
    since: Option<String>,
    exclusive: bool,
    fallible: bool,
    params: Vec<(String, Type, Param)>,
    ret_written: Type,
    ret: Ret,
    docs: Vec<Attribute>,
    signature: String,
}

/// The first release of `version`'s compatibility range: `x.0.0`, or
/// `0.y.0` for a 0.x version.
fn first_release(version: &semver::Version) -> semver::Version {
    if version.major == 0 {
        semver::Version::new(0, version.minor, 0)
    } else {
        semver::Version::new(version.major, 0, 0)
    }
}

fn parse_version(lit: &LitStr, what: &str) -> syn::Result<semver::Version> {
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
fn render(tokens: &impl ToTokens) -> String {
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

fn parse_method(item: &mut TraitItemFn, index: usize) -> syn::Result<Method> {
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

/// Checks the `#[since]` versions against the interface version and their
/// order.
fn check_evolution(
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
    let mut specs = Vec::new();
    let mut implements = Vec::new();
    let mut handle_methods = Vec::new();
    let mut trait_methods = Vec::new();
    let mut infos = Vec::new();
    let mut slots = Vec::new();
    let mut invokes = Vec::new();
    let mut travels = Vec::new();
    let mut checks = Vec::new();
    let mut optional = Vec::new();
    let mut remotes = Vec::new();
    let mut remote_slots = Vec::new();

    for m in &methods {
        let ident = &m.ident;
        let name = ident.to_string();
        let index = m.index;
        let exclusive = m.exclusive;
        let since = match &m.since {
            Some(s) => quote!(::core::option::Option::Some(#s)),
            None => quote!(::core::option::Option::None),
        };
        if let Some(s) = &m.since {
            optional.push(quote!((#name, #s)));
        }
        let since_text = m.since.clone().unwrap_or_default();
        let args_ty = format_ident!("Args{}", m.params.len());
        let param_ffi: Vec<TokenStream> = m.params.iter().map(|(_, _, p)| p.ffi()).collect();
        let ret_ffi = m.ret.ffi();
        let mut as_is = Vec::new();
        for (_, _, p) in &m.params {
            p.as_is_types(&mut as_is);
        }
        m.ret.as_is_types(&mut as_is);
        checks.extend(as_is.iter().map(check_crosses));

        specs.push(quote! {
            unsafe impl #pb::MethodSpec for m::#ident {
                type Interface = dyn #trait_ident;
                type Args = #pb::#args_ty<#(#param_ffi),*>;
                type Ret = #ret_ffi;
                const INDEX: usize = #index;
                const NAME: &'static str = #name;
                const SINCE: ::core::option::Option<&'static str> = #since;
                const EXCLUSIVE: bool = #exclusive;
            }
        });

        // Plugin side: run the method of any `T: Trait`.
        let arg_names: Vec<Ident> = (0..m.params.len())
            .map(|i| format_ident!("a{}", i))
            .collect();
        let raised = m
            .params
            .iter()
            .zip(&arg_names)
            .map(|((_, _, p), a)| p.raise(quote!(#a)));
        let passed: Vec<TokenStream> = m
            .params
            .iter()
            .zip(&arg_names)
            .map(|((_, _, p), a)| p.pass(quote!(#a)))
            .collect();
        let lowered_ok = m.ret.lower(quote!(value));
        let body = if m.fallible {
            quote!(ret.map(|value| #lowered_ok))
        } else {
            let lowered = m.ret.lower(quote!(ret));
            quote!(::core::result::Result::Ok(#lowered))
        };
        let (implement, this_ty) = if m.exclusive {
            (quote!(ImplementMut), quote!(&mut T))
        } else {
            (quote!(Implement), quote!(&T))
        };
        implements.push(quote! {
            impl<T: #trait_ident> #pb::#implement<T> for m::#ident {
                #[inline(always)]
                fn run(
                    this: #this_ty,
                    args: <Self::Args as #pb::FfiValue>::View<'_>,
                ) -> ::core::result::Result<Self::Ret, #pi::PluginError> {
                    let (#(#arg_names,)*) = args;
                    #(let #arg_names = #raised;)*
                    let ret = <T as #trait_ident>::#ident(this, #(#passed),*);
                    #body
                }
            }
        });
        slots.push(if m.exclusive {
            quote!(#pb::slot_mut::<T, m::#ident>())
        } else {
            quote!(#pb::slot::<T, m::#ident>())
        });
        remotes.push(remote_method(m, &implement));
        remote_slots.push(if m.exclusive {
            quote!(#pb::slot_mut::<#pi::Remote, m::#ident>())
        } else {
            quote!(#pb::slot::<#pi::Remote, m::#ident>())
        });

        // Host side: the handle's method.
        let receiver = if m.exclusive {
            quote!(&mut self)
        } else {
            quote!(&self)
        };
        let call = if m.exclusive {
            quote!(call_mut)
        } else {
            quote!(call)
        };
        let typed_params: Vec<TokenStream> = m
            .params
            .iter()
            .zip(&arg_names)
            .map(|((_, ty, _), a)| quote!(#a: #ty))
            .collect();
        let lowered_args = m
            .params
            .iter()
            .zip(&arg_names)
            .map(|((_, _, p), a)| p.lower(quote!(#a)));
        let output = match &item.items[m.index] {
            TraitItem::Fn(f) => f.sig.output.clone(),
            _ => unreachable!("methods are the trait's items"),
        };
        let raised_ret = m.ret.raise(quote!(value));
        let outcome = if m.fallible {
            quote! {
                match result {
                    ::core::result::Result::Ok(value) => ::core::result::Result::Ok(#raised_ret),
                    ::core::result::Result::Err(error) => ::core::result::Result::Err(self.meta.explain(error)),
                }
            }
        } else {
            quote! {
                match result {
                    ::core::result::Result::Ok(value) => #raised_ret,
                    ::core::result::Result::Err(error) => self.meta.resume(#name, error),
                }
            }
        };
        let docs = &m.docs;
        handle_methods.push(quote! {
            #(#docs)*
            #[inline]
            pub fn #ident(#receiver, #(#typed_params),*) #output {
                let result = self.obj.#call::<m::#ident>(#pb::#args_ty(#(#lowered_args),*));
                #outcome
            }
        });
        trait_methods.push(quote! {
            #[inline]
            fn #ident(#receiver, #(#typed_params),*) #output {
                Handle::#ident(self, #(#arg_names),*)
            }
        });

        // The method table entry.
        let signature = &m.signature;
        let param_names = m.params.iter().map(|(n, _, _)| n);
        let param_types = m.params.iter().map(|(_, t, _)| render(t));
        let ret_type = render(&m.ret_written);
        let fallible = m.fallible;
        infos.push(quote! {
            #pi::MethodInfo {
                name: #st::RStr::from_str(#name),
                since: #st::RStr::from_str(#since_text),
                signature: #st::RStr::from_str(#signature),
                arg_names: #st::RSlice::from_slice(&[#(#st::RStr::from_str(#param_names)),*]),
                arg_types: #st::RSlice::from_slice(&[#(#st::RStr::from_str(#param_types)),*]),
                ret_type: #st::RStr::from_str(#ret_type),
                fallible: #fallible,
                exclusive: #exclusive,
                layout: <m::#ident as #pb::MethodSpec>::LAYOUT,
            }
        });

        // Calls as data.
        let owned_args: Vec<TokenStream> = m.params.iter().map(|(_, ty, p)| p.owned(ty)).collect();
        let passed_owned = m
            .params
            .iter()
            .zip(&arg_names)
            .map(|((_, _, p), a)| p.pass_owned(quote!(#a)));
        let (ret_owned, to_owned) = m.ret.owned(&m.ret_written, quote!(value));
        let read = if m.params.is_empty() {
            quote!()
        } else {
            quote! {
                let (#(#arg_names,)*): (#(#owned_args,)*) =
                    (&&#pb::Probe::<(#(#owned_args,)*)>::new()).read(#name, args)?;
            }
        };
        let write = quote! {
            (&&#pb::Probe::<#ret_owned>::new()).write(&#to_owned, out)
        };
        let finish = if m.fallible {
            quote! {
                match ret {
                    ::core::result::Result::Ok(value) => #write,
                    ::core::result::Result::Err(error) => ::core::result::Result::Err(#pi::InvokeError::Failed(error)),
                }
            }
        } else {
            quote! { let value = ret; #write }
        };
        invokes.push(quote! {
            #index => {
                #read
                let ret = handle.#ident(#(#passed_owned),*);
                #finish
            }
        });
        let args_travel = quote!((&&#pb::Probe::<(#(#owned_args,)*)>::new()).travels());
        // A borrowed result (`&str`, `&[T]`) is copied into its owned form
        // before it is written, so it travels like that form.
        let ret_travels = quote!((&&#pb::Probe::<#ret_owned>::new()).travels());
        let index_u32 = index as u32;
        travels.push(quote!(#index_u32 => #args_travel && #ret_travels,));
    }

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

/// How a remote object (a plugin in another process) runs method `m`:
/// writes the arguments, makes the call through its link, reads the
/// result back.
fn remote_method(m: &Method, implement: &TokenStream) -> TokenStream {
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
