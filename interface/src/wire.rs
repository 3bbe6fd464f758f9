//! Calls that travel as data: a method's arguments and result read and
//! written with `serde`, for calls from the command line (JSON) and to
//! isolated plugins (`postcard` bytes between processes).
//!
//! `#[interface]` generates, per interface, a `PluginInterface::invoke` that
//! reads a method's arguments, calls it on a handle and writes its result.
//! Whether a type can travel is decided at compile time, per method, without
//! requiring `serde` of every type an interface uses: [`Probe`] picks
//! [`CanTravel`] for types with `serde` support and [`CannotTravel`] for the
//! others (method resolution by auto-reference).

use std::{ffi::c_void, fmt, marker::PhantomData, panic::AssertUnwindSafe};

use abi_stable::std_types::{ROption, RSlice, RVec};
use serde::{de::DeserializeOwned, Deserializer, Serialize, Serializer};

use crate::{
    abi::{Checked, RawObject},
    PluginError, PluginErrorKind, PluginInterface, PluginMeta,
};

/// Why a call that travels as data could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum InvokeError {
    /// The interface was not declared with `#[interface]`, so it has no
    /// method table to call through.
    NotSupported {
        /// The interface.
        interface: &'static str,
    },
    /// The interface has no method with this index.
    NoSuchMethod {
        /// The interface.
        interface: &'static str,
        /// The index asked for.
        index: usize,
    },
    /// The method's arguments or result cannot travel as data.
    NotSerializable {
        /// The method.
        method: &'static str,
        /// Which type, and why.
        reason: String,
    },
    /// The arguments given do not fit the method's parameters.
    BadArguments {
        /// The method.
        method: &'static str,
        /// What did not fit.
        reason: String,
    },
    /// The method ran and returned its error.
    Failed(PluginError),
    /// The result could not be written.
    Output(String),
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotSupported { interface } => write!(
                f,
                "{interface} was not declared with #[interface], so its methods cannot be called as data"
            ),
            Self::NoSuchMethod { interface, index } => {
                write!(f, "{interface} has no method number {index}")
            }
            Self::NotSerializable { method, reason } => {
                write!(f, "`{method}` cannot be called as data: {reason}")
            }
            Self::BadArguments { method, reason } => {
                write!(f, "the arguments do not fit `{method}`: {reason}")
            }
            Self::Failed(error) => write!(f, "{error}"),
            Self::Output(reason) => write!(f, "cannot write the result: {reason}"),
        }
    }
}

impl std::error::Error for InvokeError {}

/// Picks, by auto-reference, whether values of type `T` can travel.
pub struct Probe<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

impl<T: ?Sized> Probe<T> {
    /// A probe for `T`.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Values of `T` travel with serde (chosen when `T` has serde support).
pub trait CanTravel<T> {
    /// Whether `T` can travel.
    fn travels(&self) -> bool {
        true
    }
    /// Reads a `T`.
    ///
    /// # Errors
    ///
    /// The data does not fit `T`.
    fn read<'de, D: Deserializer<'de>>(&self, method: &'static str, d: D)
        -> Result<T, InvokeError>;
    /// Writes `value`.
    ///
    /// # Errors
    ///
    /// The serializer failed.
    fn write<S: Serializer>(&self, value: &T, s: S) -> Result<S::Ok, InvokeError>;
    /// Writes `items` as a sequence (what a `Vec<T>` reads).
    ///
    /// # Errors
    ///
    /// The serializer failed.
    fn write_slice<S: Serializer>(&self, items: &[T], s: S) -> Result<S::Ok, InvokeError>;
}

impl<T: Serialize + DeserializeOwned> CanTravel<T> for &Probe<T> {
    fn read<'de, D: Deserializer<'de>>(
        &self,
        method: &'static str,
        d: D,
    ) -> Result<T, InvokeError> {
        T::deserialize(d).map_err(|e| InvokeError::BadArguments {
            method,
            reason: e.to_string(),
        })
    }

    fn write<S: Serializer>(&self, value: &T, s: S) -> Result<S::Ok, InvokeError> {
        value
            .serialize(s)
            .map_err(|e| InvokeError::Output(e.to_string()))
    }

    fn write_slice<S: Serializer>(&self, items: &[T], s: S) -> Result<S::Ok, InvokeError> {
        s.collect_seq(items)
            .map_err(|e| InvokeError::Output(e.to_string()))
    }
}

/// Values of `T` cannot travel (chosen when `T` lacks serde support).
pub trait CannotTravel<T> {
    /// Whether `T` can travel.
    fn travels(&self) -> bool {
        false
    }
    /// Refuses.
    ///
    /// # Errors
    ///
    /// Always: `T` cannot travel.
    fn read<'de, D: Deserializer<'de>>(
        &self,
        method: &'static str,
        d: D,
    ) -> Result<T, InvokeError> {
        drop(d);
        Err(not_serializable::<T>(method))
    }
    /// Refuses.
    ///
    /// # Errors
    ///
    /// Always: `T` cannot travel.
    fn write<S: Serializer>(&self, value: &T, s: S) -> Result<S::Ok, InvokeError> {
        let _ = (value, s);
        Err(not_serializable::<T>("a method"))
    }
    /// Refuses.
    ///
    /// # Errors
    ///
    /// Always: `T` cannot travel.
    fn write_slice<S: Serializer>(&self, items: &[T], s: S) -> Result<S::Ok, InvokeError> {
        let _ = (items, s);
        Err(not_serializable::<T>("a method"))
    }
}

impl<T> CannotTravel<T> for Probe<T> {}

fn not_serializable<T>(method: &'static str) -> InvokeError {
    InvokeError::NotSerializable {
        method,
        reason: format!(
            "`{}` has no serde support (derive serde's Serialize and Deserialize for it)",
            std::any::type_name::<T>()
        ),
    }
}

/// The meta of handles made by [`invoke_raw`]: a failure of a method
/// without `Result` resumes with the `PluginError` itself as payload, which
/// `invoke_raw` returns as it is.
static RAW_META: std::sync::LazyLock<PluginMeta> = std::sync::LazyLock::new(|| PluginMeta {
    name: String::new(),
    path: Default::default(),
    interface: String::new(),
    built_against: String::new(),
    host_version: String::new(),
    missing_methods: Vec::new(),
});

/// Runs a serialized call on an object of interface `I`, in the library that
/// made the object (the runner of isolated plugins calls it through the
/// plugin's [`MethodTable`](crate::MethodTable)). `RSome` carries the error:
/// the method's own, a panic, or arguments that do not fit.
///
/// # Safety
///
/// `object` must point to a live `RawObject` of interface `I` made by this
/// library (a factory of one of its entries for `I`), not used elsewhere
/// during the call.
pub unsafe extern "C" fn invoke_raw<I, M>(
    object: *mut c_void,
    method: u32,
    args: RSlice<'_, u8>,
    out: &mut RVec<u8>,
) -> ROption<PluginError>
where
    I: ?Sized + PluginInterface<Object = RawObject<M>>,
{
    // SAFETY: the caller passes a live, exclusively held object of `I` made
    // here; it is moved into a handle for the call and moved back below, so
    // it is dropped exactly once, by its owner.
    let raw = unsafe { std::ptr::read(object.cast::<RawObject<M>>()) };
    // SAFETY: an object this library made for `I` matches `I` by
    // construction (its vtable was built from `I`'s method table).
    let mut handle = I::wrap(unsafe { Checked::new(raw) }, &RAW_META);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut bytes = postcard::Serializer {
            output: postcard::ser_flavors::AllocVec::new(),
        };
        let mut input = postcard::Deserializer::from_bytes(args.as_slice());
        I::invoke(&mut handle, method as usize, &mut input, &mut bytes)?;
        postcard::ser_flavors::Flavor::finalize(bytes.output)
            .map_err(|e| InvokeError::Output(e.to_string()))
    }));
    let raw = I::unwrap(handle).into_inner();
    // SAFETY: puts the object back where it was read from (see above).
    unsafe { std::ptr::write(object.cast::<RawObject<M>>(), raw) };
    match result {
        Ok(Ok(bytes)) => {
            *out = RVec::from(bytes);
            ROption::RNone
        }
        Ok(Err(InvokeError::Failed(error))) => ROption::RSome(error),
        // A method after the plugin's own version of the interface.
        Ok(Err(InvokeError::NoSuchMethod { .. })) => {
            ROption::RSome(PluginError::new(PluginErrorKind::MethodMissing, ""))
        }
        Ok(Err(other)) => ROption::RSome(PluginError::new(
            PluginErrorKind::Unsupported,
            other.to_string(),
        )),
        Err(payload) => ROption::RSome(match payload.downcast::<PluginError>() {
            Ok(error) => *error,
            Err(payload) => PluginError::panicked(crate::guard::panic_message(payload.as_ref())),
        }),
    }
}
