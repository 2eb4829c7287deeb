//! Contract tests of the ports: every contract is written once, as an async function taking
//! the port, and run against both adapters: `<contract>::embedded` (the local adapter) and
//! `<contract>::moto` (the AWS adapter on a moto server).

#![allow(clippy::unwrap_used)]

/// Declares, for each named contract `f(&dyn Port)` of the enclosing module, a module `f`
/// with the two tests `embedded` and `moto`, each getting its port from the given fixture
/// expressions (evaluated inside the test; the fixture value must outlive the call).
macro_rules! contract_tests {
    (embedded: $embedded:expr, moto: $moto:expr, port: $port:ident => $as_port:expr; $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test]
                async fn embedded() {
                    let $port = $embedded;
                    super::$name($as_port).await;
                }

                #[tokio::test]
                async fn moto() {
                    let $port = $moto;
                    super::$name($as_port).await;
                }
            }
        )+
    };
}

mod blobs;
mod mailer;
mod store;
