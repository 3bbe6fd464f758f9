use plugboard_interface::{interface, PluginError};

#[interface(version = "1.1.0")]
pub trait Transformer: Send + Sync {
    #[since("1.1.0")]
    fn describe(&self) -> Result<String, PluginError>;
    fn transform(&self, input: &str) -> Result<String, PluginError>;
}

fn main() {}
