//! Starting a runner: its first start at load time (a refusal is the
//! file's [`LoadError`]), and each restart.

use std::{
    collections::HashMap,
    io::BufReader,
    path::Path,
    sync::{Arc, Mutex},
};

use plugboard_interface::metadata::Metadata;

use super::{
    forward::{Forwarded, Tail},
    os,
    parent::{Child, Failure, Running, State},
    refusal::{refusal_kind, LaunchFailure},
    wire::{self, Hello, Loaded, ToChild, ToHost},
};
use crate::{private_copy::PrivateCopy, LoadError, LoadErrorKind};

impl Child {
    /// Starts a runner for the vetted `copy` of `path` and has it load the
    /// library; the runner's report, or why it refused.
    pub(crate) fn start(
        path: &Path,
        copy: PrivateCopy,
        metadata: &Metadata,
        protocol: u32,
        config: &crate::builder::Config,
    ) -> Result<(Arc<Child>, Loaded), LoadError> {
        let runner = match &config.isolation.runner {
            Some(runner) => runner.clone(),
            None => std::env::current_exe().map_err(|e| {
                LoadError::new(
                    path,
                    LoadErrorKind::Isolation {
                        reason: format!("cannot find this program to run the plugin in: {e}"),
                    },
                )
            })?,
        };
        let library = os::library_source(&copy);
        let hello = Hello {
            protocol: wire::PROTOCOL,
            path: path.display().to_string(),
            library,
            metadata: metadata.to_text(),
            app_protocol: protocol,
            host_name: config.shared.host_name.clone(),
            host_version: config.shared.host_version.clone(),
            max_log_level: log::max_level() as u8,
            panic_policy: config.panic_policy as u8,
            interfaces: super::digests(&config.specs),
            services: config.shared.service_digests(),
        };
        let child = Arc::new(Child {
            library: metadata.library.clone(),
            path: path.to_owned(),
            runner,
            settings: config.isolation.clone(),
            copy,
            hello,
            specs: config.specs.clone(),
            shared: Arc::clone(&config.shared),
            state: Mutex::new(State::Closed),
            dropped: Mutex::new(Vec::new()),
        });
        let loaded = {
            let mut state = child.lock();
            child
                .launch(&mut state, 1, 0)
                .map_err(|failure| failure.into_load_error(path))?
        };
        Ok((child, loaded))
    }

    /// Starts the runner and has it load the library (`state` becomes
    /// `Running`, or `Stopped` with the reason).
    pub(super) fn launch(
        &self,
        state: &mut State,
        generation: u64,
        failures: u32,
    ) -> Result<Loaded, LaunchFailure> {
        let started = os::start(
            &self.runner,
            &self.copy,
            self.settings.memory_limit,
            self.settings.call_timeout,
        )
        .map_err(|e| {
            LaunchFailure::Refused(LoadErrorKind::Isolation {
                reason: format!(
                    "cannot start {} to run the plugin in: {e}",
                    crate::display::path(&self.runner)
                ),
            })
        })?;
        let logs = Forwarded::start(started.logs, &self.library, &self.shared);
        let stderr = Tail::start(started.stderr, &self.library);
        *state = State::Running(Box::new(Running {
            process: started.process,
            reader: BufReader::new(started.reader),
            writer: started.writer,
            buf: Vec::new(),
            generation,
            failures,
            _lifeline: started.lifeline,
            logs,
            stderr,
            services: HashMap::new(),
            next_service: 1,
        }));
        match self.request(
            state,
            ToChild::Hello(Box::new(self.hello.clone())),
            "its load",
        ) {
            Ok(ToHost::Loaded(loaded)) => Ok(*loaded),
            Ok(ToHost::Refused(refusal)) => {
                self.stop(state, None);
                Err(LaunchFailure::Refused(refusal_kind(
                    refusal,
                    &self.specs,
                    &self.path,
                )))
            }
            Ok(other) => {
                let error = self.protocol_error(&other);
                self.stop(state, Some(error.clone()));
                Err(LaunchFailure::Failed(Failure {
                    detail: error.message().to_owned(),
                    error,
                }))
            }
            Err(failure) => Err(LaunchFailure::Failed(failure)),
        }
    }
}
