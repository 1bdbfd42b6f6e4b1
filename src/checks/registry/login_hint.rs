//! The command that logs docker in to the registry, as the user would type
//! it: `az acr login -n <the registry's name>` for a registry of the cloud
//! (the name the user gave, or Resource Manager's), else `docker login
//! <login server>`.

/// What the docker checks tell the user to run.
#[derive(Clone, Debug)]
pub(crate) struct LoginHint {
    /// The registry's name, when the login server is a registry of the cloud.
    pub registry: Option<String>,
    /// The login server, as docker names it (`host[:port]`).
    pub host: String,
}

impl LoginHint {
    /// "az acr login -n myregistry (or docker login myregistry.azurecr.io)".
    pub(crate) fn command(&self) -> String {
        match &self.registry {
            Some(name) => format!("az acr login -n {name} (or docker login {})", self.host),
            None => format!("docker login {}", self.host),
        }
    }
}
