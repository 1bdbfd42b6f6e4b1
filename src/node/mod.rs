//! A Kubernetes node's own files, read under its host root (`/` on the
//! node, `/host` in a pod that mounts it): the cloud provider configuration
//! (`azure.json`), the kubelet's flags and its credential provider's
//! configuration, containerd's service environment. Facts only: the node
//! checks judge them.

pub(crate) mod azure_json;
pub(crate) mod containerd_env;
pub(crate) mod host_root;
pub(crate) mod kubelet;
pub(crate) mod provider;
