use std::collections::HashMap;

use plugboard_interface::{interface, PluginError};

#[interface(version = "1.0.0")]
pub trait Counter: Send + Sync {
    fn counts(&self) -> Result<HashMap<String, u32>, PluginError>;
}

fn main() {}
