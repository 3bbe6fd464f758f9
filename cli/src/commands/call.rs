//! `call PLUGIN METHOD [ARGS]... [METHOD [ARGS]...]`: calls methods of a
//! plugin by name, each argument a JSON value, each result printed as JSON
//! (or as plain text with `--format text`). It goes through the method table
//! `#[interface]` generates, so it works for every interface the
//! application registers, with no code written for it.

use plugboard_host::{DispenseError, PluginHostBuilder};
use plugboard_interface::MethodTable;
use serde_json::Value;

use crate::{
    args::{CallArgs, Format},
    output, Context, Failure,
};

/// One method call, parsed and checked before anything runs.
struct Call<'a> {
    method: &'a str,
    args: Vec<Value>,
}

pub(crate) fn run(
    context: &Context,
    builder: PluginHostBuilder,
    args: &CallArgs,
) -> Result<(), Failure> {
    // No JSON value starts with `--`: that is an option after the plugin's
    // name, which would otherwise be taken as an argument of the method.
    if let Some(option) = args.call.iter().find(|a| a.starts_with("--")) {
        return Err(Failure::Usage(format!(
            "`{option}` comes after the plugin's name; options go before it: `{} call {option} ... {} METHOD [ARGS]`",
            context.program, args.plugin
        )));
    }
    let dir = super::plugins_dir(&args.folder.plugins, &builder);
    let (host, report) = super::load(builder, &args.folder, &dir)?;
    for refused in report.refused() {
        log::info!("{refused}");
    }
    let mut plugin = host.dispense_dynamic(&args.plugin).map_err(|e| {
        let refused = report.refused().count();
        match e {
            DispenseError::UnknownPlugin { .. } if refused > 0 => Failure::Failed(format!(
                "{e}; {refused} file(s) in {} were refused: `{} list` says why",
                output::path(&dir),
                context.program
            )),
            other => Failure::Failed(other.to_string()),
        }
    })?;
    let calls = parse(plugin.methods(), &args.call)?;
    for call in calls {
        let value = plugin
            .call(call.method, call.args)
            .map_err(|e| Failure::Failed(e.to_string()))?;
        match (args.format, &value) {
            (Format::Text, Value::Null) => {}
            (Format::Text, Value::String(s)) => println!("{s}"),
            _ => println!("{value}"),
        }
    }
    Ok(())
}

/// Splits `tokens` into calls: a method name, then as many JSON values as
/// the method has parameters.
fn parse<'a>(table: &MethodTable, tokens: &'a [String]) -> Result<Vec<Call<'a>>, Failure> {
    let mut calls = Vec::new();
    let mut rest = tokens.iter();
    while let Some(method) = rest.next() {
        let Some((index, info)) = table.method(method) else {
            let methods: Vec<String> = table
                .methods
                .iter()
                .map(|m| format!("  {}", m.signature))
                .collect();
            return Err(Failure::Usage(format!(
                "{} has no method `{method}`; its methods are:\n{}",
                table.interface,
                methods.join("\n")
            )));
        };
        if !(table.serializable)(index as u32) {
            return Err(Failure::Failed(format!(
                "`{}` cannot be called from the command line: its arguments or result have no serde support",
                info.signature
            )));
        }
        let mut args = Vec::new();
        for (given, (name, ty)) in info.arg_names.iter().zip(info.arg_types.iter()).enumerate() {
            let Some(text) = rest.next() else {
                return Err(Failure::Usage(format!(
                    "`{}` takes {} argument(s), each a JSON value; {given} given",
                    info.signature,
                    info.arg_names.len()
                )));
            };
            let value = serde_json::from_str(text).map_err(|e| {
                Failure::Usage(format!(
                    "the argument `{name}: {ty}` of `{method}` is not a JSON value ({e}): {text}; a string is written with its quotes, e.g. '\"{text}\"'"
                ))
            })?;
            args.push(value);
        }
        calls.push(Call { method, args });
    }
    Ok(calls)
}
