//! Step 7: dispense a typed plugin object. The interface checks
//! ([`check`](crate::check)) run once per plugin and interface type; their
//! success is a [`Checked`] token, which is the only way to reach a factory.
//! One of the modules with `unsafe`: calling the factory and trusting what it
//! wrote.

use std::{
    any::TypeId,
    marker::PhantomData,
    mem::MaybeUninit,
    path::Path,
    sync::{Mutex, OnceLock},
};

use abi_stable::std_types::RResult;
use plugboard_interface::{MissingMethod, PluginInterface, PluginMeta};

use plugboard_interface::Remote;

use crate::{
    check::{self, Candidate, InterfaceSpec},
    registry::{EntryInfo, Slot},
    DispenseError, Plugin,
};
use crate::{isolation::objects::RemoteObject, registry::Runtime};

/// A passed check, for the interface type `type_id`.
#[derive(Clone, Copy)]
struct Passed {
    type_id: TypeId,
    meta: &'static PluginMeta,
}

/// The interface types a slot passed the checks for. The first is read
/// without a lock (hosts almost always dispense a plugin as one type).
#[derive(Default)]
pub(crate) struct CheckCache {
    first: OnceLock<Passed>,
    more: Mutex<Vec<Passed>>,
}

impl CheckCache {
    fn get(&self, type_id: TypeId) -> Option<&'static PluginMeta> {
        match self.first.get() {
            Some(p) if p.type_id == type_id => Some(p.meta),
            Some(_) => self
                .more
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .find(|p| p.type_id == type_id)
                .map(|p| p.meta),
            None => None,
        }
    }

    fn insert(&self, passed: Passed) {
        if self.first.set(passed).is_err() {
            self.more
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(passed);
        }
    }

    /// A cache holding the check plugin `entry` passed at load time against
    /// `spec` (for an interface the host registered).
    pub(crate) fn passed_at_load(
        spec: &InterfaceSpec,
        entry: &EntryInfo,
        path: &Path,
        missing_methods: Vec<MissingMethod>,
    ) -> Self {
        let cache = Self::default();
        cache.insert(Passed {
            type_id: spec.type_id,
            meta: meta(
                spec,
                &entry.name,
                &entry.interface_version,
                path,
                missing_methods,
            ),
        });
        cache
    }
}

/// What a host knows about a plugin it checked, for the life of the
/// process (each plugin and interface type once, like the library itself).
fn meta(
    spec: &InterfaceSpec,
    name: &str,
    built_against: &str,
    path: &Path,
    missing_methods: Vec<MissingMethod>,
) -> &'static PluginMeta {
    Box::leak(Box::new(PluginMeta {
        name: name.to_owned(),
        path: path.to_owned(),
        interface: spec.name.to_owned(),
        built_against: built_against.to_owned(),
        host_version: spec.version.to_owned(),
        missing_methods,
    }))
}

/// Proof that a slot's entry passed the interface checks for `I`: only
/// [`checked`] makes one.
pub(crate) struct Checked<'s, I: ?Sized> {
    slot: &'s Slot,
    meta: &'static PluginMeta,
    _for: PhantomData<fn() -> *const I>,
}

/// Runs the interface checks of `slot` for `I` (once per slot and type).
pub(crate) fn checked<I: ?Sized + PluginInterface>(
    slot: &Slot,
) -> Result<Checked<'_, I>, DispenseError> {
    let meta = match slot.checks.get(TypeId::of::<I>()) {
        Some(meta) => meta,
        None => {
            let spec = InterfaceSpec::of::<I>();
            let path = &slot.library.info.path;
            let Some(entry) = &slot.entry else {
                return Err(unchecked_isolated(&spec, slot));
            };
            let candidate = Candidate { entry, path };
            let missing = check::entry(&spec, &candidate)?;
            let meta = meta(
                &spec,
                entry.name(),
                entry.interface_version(),
                path,
                missing,
            );
            slot.checks.insert(Passed {
                type_id: spec.type_id,
                meta,
            });
            meta
        }
    };
    Ok(Checked {
        slot,
        meta,
        _for: PhantomData,
    })
}

/// Why an isolated plugin cannot be dispensed as `spec`: its runner
/// checked it only against the interfaces the host registered.
#[cold]
fn unchecked_isolated(spec: &InterfaceSpec, slot: &Slot) -> DispenseError {
    let info = &slot.info.entry;
    if info.interface != spec.name {
        return DispenseError::WrongInterface {
            plugin: info.name.clone(),
            path: slot.library.info.path.clone(),
            expected: spec.name,
            found: info.interface.clone(),
            implementing: Vec::new(),
        };
    }
    DispenseError::Unregistered {
        plugin: info.name.clone(),
        interface: info.interface.clone(),
        registered: Vec::new(),
    }
}

/// Calls the checked entry's factory (or, for an isolated plugin, has its
/// runner make the object) and wraps the object for `I`.
pub(crate) fn create<I: ?Sized + PluginInterface>(
    checked: &Checked<'_, I>,
) -> Result<Plugin<I>, DispenseError> {
    let Some(entry) = &checked.slot.entry else {
        return create_isolated(checked);
    };
    let mut object = MaybeUninit::<I::Object>::uninit();
    // SAFETY: `checked` proves the entry's layout (and, for `#[interface]`
    // traits, every method) matches `I::Object`, so its factory writes a
    // valid `I::Object` into a slot valid and aligned for one (the `Factory`
    // contract). The factory catches panics inside the plugin.
    let result = unsafe { (entry.factory())(object.as_mut_ptr().cast()) };
    match result {
        RResult::ROk(()) => {
            // SAFETY: on `ROk` the factory has initialised the object; it
            // came from the checked entry, as `Checked::new` requires.
            let object = unsafe { plugboard_interface::Checked::<I>::new(object.assume_init()) };
            Ok(Plugin::new(
                I::wrap(object, checked.meta),
                checked.meta,
                &checked.slot.library,
            ))
        }
        RResult::RErr(error) => Err(DispenseError::FactoryFailed {
            plugin: checked.meta.name.clone(),
            path: checked.meta.path.clone(),
            error,
        }),
    }
}

/// Has an isolated plugin's runner make the object, and wraps the remote
/// object for `I`.
fn create_isolated<I: ?Sized + PluginInterface>(
    checked: &Checked<'_, I>,
) -> Result<Plugin<I>, DispenseError> {
    let library = &checked.slot.library;
    let plugin = || checked.meta.name.clone();
    let (Runtime::Isolated(child), Some(methods)) = (&library.runtime, I::METHODS) else {
        return Err(DispenseError::NotCallable {
            plugin: plugin(),
            interface: I::NAME,
        });
    };
    let link = RemoteObject::create(
        child,
        &checked.meta.name,
        methods,
        &checked.meta.missing_methods,
    )?;
    let Some(object) = I::remote(Remote::new(link)) else {
        return Err(DispenseError::NotCallable {
            plugin: plugin(),
            interface: I::NAME,
        });
    };
    // SAFETY: `I::remote` makes the object with `I`'s own vtable for
    // remote objects, built from `I`'s own method table by `#[interface]`:
    // it matches `I` by construction.
    let object = unsafe { plugboard_interface::Checked::<I>::new(object) };
    Ok(Plugin::new(
        I::wrap(object, checked.meta),
        checked.meta,
        library,
    ))
}
