//! A TCP proxy the tests can cut: the database "goes away" for the service behind it while the
//! real server keeps running for every other test.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards every connection to `upstream` while it is up. When cut, it closes every
/// forwarded connection and then either closes new ones at once (a stopped server, as the
/// client sees it) or, when silenced, holds them without a word (a blocked port).
pub struct TcpProxy {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    acceptor: JoinHandle<()>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Refusing,
    Silent,
}

struct State {
    mode: Mode,
    links: Vec<JoinHandle<()>>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(Mutex::new(State {
            mode: Mode::Up,
            links: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().expect("the proxy's state");
                state.links.retain(|link| !link.is_finished());
                let link = match state.mode {
                    Mode::Refusing => {
                        drop(client);
                        continue;
                    }
                    // Held open, never answered, until the proxy is cut again or restored.
                    Mode::Silent => tokio::spawn(async move {
                        let _held = client;
                        std::future::pending::<()>().await;
                    }),
                    Mode::Up => tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        }
                    }),
                };
                state.links.push(link);
            }
        });
        TcpProxy {
            address,
            state,
            acceptor,
        }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    fn switch(&self, mode: Mode) {
        let mut state = self.state.lock().expect("the proxy's state");
        state.mode = mode;
        for link in state.links.drain(..) {
            link.abort();
        }
    }

    /// The database is stopped: open connections are cut, new ones closed at once.
    pub fn cut(&self) {
        self.switch(Mode::Refusing);
    }

    /// The database's port is blocked: open connections are cut, new ones never answered.
    pub fn silence(&self) {
        self.switch(Mode::Silent);
    }

    /// The database is back.
    pub fn restore(&self) {
        self.state.lock().expect("the proxy's state").mode = Mode::Up;
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.acceptor.abort();
    }
}
