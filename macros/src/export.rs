//! `export_plugins!`: a plugin library's handshake, metadata link section,
//! root module and factories.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{
    braced,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
    spanned::Spanned,
    Expr, Ident, LitInt, LitStr, Path, Token,
};

/// `abi_stable`'s exported root-module symbol (checked against
/// `abi_stable::library::ROOT_MODULE_LOADER_NAME` by plugboard-interface's
/// tests).
const ROOT_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// One plugin: `"upper": Transformer => Upper` (an `#[interface]` trait), or
/// `"greeter" => GreeterBox::from_value(..)` (a hand-written interface type).
struct Entry {
    name: LitStr,
    interface: Option<Path>,
    make: Expr,
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: LitStr = input.parse()?;
        let interface = if input.peek(Token![:]) {
            input.parse::<Token![:]>()?;
            Some(input.parse::<Path>()?)
        } else {
            None
        };
        input.parse::<Token![=>]>()?;
        let make = input.parse()?;
        Ok(Self {
            name,
            interface,
            make,
        })
    }
}

fn entries(input: ParseStream<'_>) -> syn::Result<Vec<Entry>> {
    let content;
    braced!(content in input);
    Ok(Punctuated::<Entry, Token![,]>::parse_terminated(&content)?
        .into_iter()
        .collect())
}

/// One protocol set: `1 => { ... }`.
struct Set {
    protocol: LitInt,
    entries: Vec<Entry>,
}

impl Parse for Set {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let protocol = input.parse()?;
        input.parse::<Token![=>]>()?;
        Ok(Self {
            protocol,
            entries: entries(input)?,
        })
    }
}

pub(crate) struct Input {
    handshake: Expr,
    name: Option<Expr>,
    version: Option<Expr>,
    description: Option<Expr>,
    on_load: Option<Path>,
    on_unload: Option<Path>,
    sets: Vec<Set>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut handshake = None;
        let (mut name, mut version, mut description) = (None, None, None);
        let (mut on_load, mut on_unload) = (None, None);
        let mut sets: Option<Vec<Set>> = None;
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            let duplicate = || syn::Error::new_spanned(&key, format!("`{key}` is given twice"));
            match key.to_string().as_str() {
                "handshake" => {
                    if handshake.replace(input.parse()?).is_some() {
                        return Err(duplicate());
                    }
                }
                "name" => {
                    if name.replace(input.parse()?).is_some() {
                        return Err(duplicate());
                    }
                }
                "version" => {
                    if version.replace(input.parse()?).is_some() {
                        return Err(duplicate());
                    }
                }
                "description" => {
                    if description.replace(input.parse()?).is_some() {
                        return Err(duplicate());
                    }
                }
                "on_load" => {
                    if on_load.replace(input.parse()?).is_some() {
                        return Err(duplicate());
                    }
                }
                "on_unload" => {
                    if on_unload.replace(input.parse()?).is_some() {
                        return Err(duplicate());
                    }
                }
                "plugins" => {
                    if sets.is_some() {
                        return Err(syn::Error::new_spanned(
                            &key,
                            "give either `plugins: { ... }` or `protocols: { ... }`, once",
                        ));
                    }
                    sets = Some(vec![Set {
                        protocol: LitInt::new("1", key.span()),
                        entries: entries(input)?,
                    }]);
                }
                "protocols" => {
                    if sets.is_some() {
                        return Err(syn::Error::new_spanned(
                            &key,
                            "give either `plugins: { ... }` or `protocols: { ... }`, once",
                        ));
                    }
                    let content;
                    braced!(content in input);
                    sets = Some(
                        Punctuated::<Set, Token![,]>::parse_terminated(&content)?
                            .into_iter()
                            .collect(),
                    );
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        "unknown field: export_plugins! takes handshake, plugins (or protocols), and optionally name, version, description, on_load, on_unload",
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let handshake = handshake.ok_or_else(|| {
            input.error("export_plugins! needs `handshake: YOUR_HANDSHAKE` (the constant your interface crate shares with the host)")
        })?;
        let sets = sets.ok_or_else(|| {
            input.error("export_plugins! needs `plugins: { \"name\": Trait => value, ... }`")
        })?;
        if sets.is_empty() {
            return Err(input.error("`protocols` needs at least one protocol set"));
        }
        Ok(Self {
            handshake,
            name,
            version,
            description,
            on_load,
            on_unload,
            sets,
        })
    }
}

fn or_env(value: &Option<Expr>, var: &str) -> TokenStream {
    match value {
        Some(v) => quote!(#v),
        None => quote!(::core::env!(#var)),
    }
}

fn hook(path: &Option<Path>) -> TokenStream {
    match path {
        Some(p) => {
            quote!(::core::option::Option::Some(#p as ::plugboard_interface::__private::Hook))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// The entry's `PluginEntry` expression and its metadata line parts.
fn entry(entry: &Entry, protocol: &LitInt) -> (TokenStream, TokenStream) {
    let pi = quote!(::plugboard_interface);
    let pb = quote!(::plugboard_interface::__private);
    let name = &entry.name;
    let make = &entry.make;
    match &entry.interface {
        Some(path) => {
            let assert = quote_spanned! {make.span()=>
                let _ = || {
                    fn implements<T: #path>(_: &T) {}
                    implements(&(#make));
                };
            };
            let value = quote! {
                {
                    unsafe extern "C" fn factory(
                        out: *mut ::core::ffi::c_void,
                    ) -> #pb::abi_stable::std_types::RResult<(), #pi::PluginError> {
                        #assert
                        // SAFETY: the host calls a factory only with a slot
                        // checked for this entry's layout (`dyn #path`'s
                        // object), as the `Factory` contract requires.
                        unsafe { #pb::run_factory::<dyn #path, _>(out, || #make) }
                    }
                    // SAFETY: `factory` writes a `<dyn #path>::Object`, made
                    // by `Exports` from the interface's own vtables.
                    unsafe { #pi::PluginEntry::new::<dyn #path>(#name, factory) }
                }
            };
            let meta = quote! {
                "plugin\t", ::core::stringify!(#protocol), "\t", field(#name),
                "\t", field(<dyn #path as #pi::PluginInterface>::NAME),
                "\t", field(<dyn #path as #pi::PluginInterface>::VERSION), "\n",
            };
            (value, meta)
        }
        None => {
            let value = quote! {
                {
                    unsafe extern "C" fn factory(
                        out: *mut ::core::ffi::c_void,
                    ) -> #pb::abi_stable::std_types::RResult<(), #pi::PluginError> {
                        // SAFETY: as for `#[interface]` entries; the object's
                        // type is the one `make` returns.
                        unsafe { #pb::run_factory_self(out, || #make) }
                    }
                    // SAFETY: `factory` writes a value of the type `make`
                    // returns, whose layout the entry carries.
                    unsafe { #pi::PluginEntry::__for_constructor(#name, || #make, factory) }
                }
            };
            let meta = quote! {
                "plugin\t", ::core::stringify!(#protocol), "\t", field(#name),
                "\t", interface_name(|| #make), "\t", interface_version(|| #make), "\n",
            };
            (value, meta)
        }
    }
}

pub(crate) fn expand(input: Input) -> TokenStream {
    let pi = quote!(::plugboard_interface);
    let pb = quote!(::plugboard_interface::__private);
    let st = quote!(::plugboard_interface::__private::abi_stable::std_types);
    let handshake = &input.handshake;
    let name = or_env(&input.name, "CARGO_PKG_NAME");
    let version = or_env(&input.version, "CARGO_PKG_VERSION");
    let description = or_env(&input.description, "CARGO_PKG_DESCRIPTION");
    let on_load = hook(&input.on_load);
    let on_unload = hook(&input.on_unload);
    let protocols: Vec<&LitInt> = input.sets.iter().map(|s| &s.protocol).collect();
    let mut meta_lines = Vec::new();
    let mut sets = Vec::new();
    for set in &input.sets {
        let protocol = &set.protocol;
        let mut values = Vec::new();
        for e in &set.entries {
            let (value, meta) = entry(e, protocol);
            values.push(value);
            meta_lines.push(meta);
        }
        sets.push(quote! {
            #pi::PluginSet {
                protocol_version: #protocol,
                entries: #st::RSlice::from_slice(&[#(#values),*]),
            }
        });
    }
    let root_symbol = ROOT_SYMBOL;

    quote! {
        const __PLUGBOARD_HANDSHAKE: #pi::HandshakeConfig = #handshake;
        const __PLUGBOARD_NAME: &str = #name;
        const __PLUGBOARD_VERSION: &str = #version;
        const __PLUGBOARD_DESCRIPTION: &str = #description;
        const __PLUGBOARD_METADATA_PARTS: &[&str] = {
            use #pb::metadata::{field, interface_name, interface_version};
            &[
                #pb::metadata::MAGIC, "\n",
                "abi\t", #pb::metadata::ABI_VERSION_STR, "\n",
                "cookie\t", field(__PLUGBOARD_HANDSHAKE.cookie_key),
                "\t", field(__PLUGBOARD_HANDSHAKE.cookie_value), "\n",
                "library\t", field(__PLUGBOARD_NAME), "\t", field(__PLUGBOARD_VERSION), "\n",
                "description\t", field(__PLUGBOARD_DESCRIPTION), "\n",
                "target\t", ::std::env::consts::ARCH, "\t", ::std::env::consts::OS,
                "\t", #pb::metadata::TARGET_ENV, "\n",
                #("protocol\t", ::core::stringify!(#protocols), "\n",)*
                #(#meta_lines)*
                "end\n",
            ]
        };

        /// The plugin's metadata, readable from the file without running it.
        #[used]
        #[cfg_attr(
            not(any(target_vendor = "apple", target_os = "windows")),
            unsafe(link_section = ".plugboard")
        )]
        #[cfg_attr(target_vendor = "apple", unsafe(link_section = "__DATA,__plugboard"))]
        #[cfg_attr(target_os = "windows", unsafe(link_section = ".plugbrd"))]
        static __PLUGBOARD_METADATA: [u8; #pb::metadata::encoded_len(__PLUGBOARD_METADATA_PARTS)] =
            #pb::metadata::encode(__PLUGBOARD_METADATA_PARTS);

        fn __plugboard_root_module() -> #pi::PluginLibraryRef {
            use #pb::abi_stable::prefix_type::PrefixTypeTrait as _;
            // Keeps the metadata section alive through the linker's garbage
            // collection: the exported root module refers to it.
            ::core::hint::black_box(&__PLUGBOARD_METADATA);
            static PROTOCOLS: &[u32] = &[#(#protocols),*];
            static SETS: &[#pi::PluginSet] = &[#(#sets),*];
            #pi::PluginLibrary::__new(
                #pi::Handshake {
                    abi_version: #pi::ABI_VERSION,
                    cookie_key: #st::RStr::from_str(__PLUGBOARD_HANDSHAKE.cookie_key),
                    cookie_value: #st::RStr::from_str(__PLUGBOARD_HANDSHAKE.cookie_value),
                    protocol_versions: #st::RSlice::from_slice(PROTOCOLS),
                },
                #pi::LibraryMetadata {
                    name: #st::RStr::from_str(__PLUGBOARD_NAME),
                    version: #st::RStr::from_str(__PLUGBOARD_VERSION),
                    description: #st::RStr::from_str(__PLUGBOARD_DESCRIPTION),
                },
                #st::RSlice::from_slice(SETS),
                {
                    extern "C" fn init(
                        context: #pi::HostContext,
                    ) -> #st::RResult<(), #pi::PluginError> {
                        #pb::run_init(context, #on_load)
                    }
                    init
                },
                {
                    extern "C" fn set_max_log_level(level: u8) {
                        #pb::run_set_max_log_level(level)
                    }
                    set_max_log_level
                },
                {
                    extern "C" fn shutdown() -> #st::RResult<(), #pi::PluginError> {
                        #pb::run_shutdown(#on_unload)
                    }
                    shutdown
                },
                {
                    extern "C" fn poisoned() -> bool {
                        #pi::is_poisoned()
                    }
                    poisoned
                },
            )
            .leak_into_prefix()
        }

        /// The root module the host looks up.
        #[unsafe(export_name = #root_symbol)]
        pub static __PLUGBOARD_LIB_HEADER: #pb::abi_stable::library::LibHeader = {
            extern "C" fn constructor() -> #pb::abi_stable::library::RootModuleResult {
                #pb::call_root_module(__plugboard_root_module)
            }
            // SAFETY: `constructor` returns this library's `PluginLibraryRef`.
            unsafe { #pb::lib_header(constructor) }
        };
    }
}
