use plugboard_interface::{interface, PluginError};

#[interface(version = "1.1.0")]
pub trait Transformer: Send + Sync {
    fn transform(&self, input: &str) -> Result<String, PluginError>;
    #[since("1.1.0")]
    fn describe(&self) -> String;
}

fn main() {}
