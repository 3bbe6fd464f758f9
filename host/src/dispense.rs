//! Step 7: dispense a typed plugin object. The interface checks
//! ([`check`](crate::check)) run once per plugin and interface type; their
//! success is a [`Checked`] token, which is the only way to reach a factory.
//! One of the modules with `unsafe`: calling the factory and trusting what it
//! wrote.

use std::{
    any::TypeId,
    marker::PhantomData,
    mem::MaybeUninit,
    sync::{Mutex, OnceLock},
};

use abi_stable::std_types::RResult;
use plugboard_interface::{MissingMethod, PluginInterface, PluginMeta};

use crate::{
    check::{self, Candidate, InterfaceSpec},
    registry::Slot,
    DispenseError, Plugin,
};

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

    /// A cache holding the check an entry passed at load time against
    /// `spec` (for an interface the host registered).
    pub(crate) fn passed_at_load(
        spec: &InterfaceSpec,
        candidate: &Candidate<'_>,
        missing_methods: Vec<MissingMethod>,
    ) -> Self {
        let cache = Self::default();
        cache.insert(Passed {
            type_id: spec.type_id,
            meta: meta(spec, candidate, missing_methods),
        });
        cache
    }
}

/// What a host knows about a plugin it checked, for the life of the
/// process (each plugin and interface type once, like the library itself).
fn meta(
    spec: &InterfaceSpec,
    candidate: &Candidate<'_>,
    missing_methods: Vec<MissingMethod>,
) -> &'static PluginMeta {
    Box::leak(Box::new(PluginMeta {
        name: candidate.entry.name().to_owned(),
        path: candidate.path.to_owned(),
        interface: spec.name.to_owned(),
        built_against: candidate.entry.interface_version().to_owned(),
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
            let candidate = Candidate {
                entry: &slot.entry,
                path: &slot.library.info.path,
            };
            let missing = check::entry(&spec, &candidate)?;
            let meta = meta(&spec, &candidate, missing);
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

/// Calls the checked entry's factory and wraps the object for `I`.
pub(crate) fn create<I: ?Sized + PluginInterface>(
    checked: &Checked<'_, I>,
) -> Result<Plugin<I>, DispenseError> {
    let entry = &checked.slot.entry;
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
                checked.slot.library.root.poisoned(),
            ))
        }
        RResult::RErr(error) => Err(DispenseError::FactoryFailed {
            plugin: checked.meta.name.clone(),
            path: checked.meta.path.clone(),
            error,
        }),
    }
}
