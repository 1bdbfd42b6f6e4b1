//! A real DNS server on 127.0.0.1 (UDP and TCP) serving a small zone, built
//! with hickory's protocol types.

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub enum Entry {
    Addr(IpAddr),
    Cname(String),
    /// A CNAME to a name made of raw label bytes (anything the wire format
    /// carries), which itself has the address.
    RawCname(Vec<Vec<u8>>, IpAddr),
}

#[derive(Default)]
struct Zone {
    records: HashMap<String, Vec<Entry>>,
    /// Names asked for, in order.
    asked: Vec<String>,
    silent: bool,
    /// Held before each answer, to stand for a round trip to a far server.
    delay: std::time::Duration,
}

pub struct DnsServer {
    pub addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl DnsServer {
    pub fn start() -> DnsServer {
        // UDP and TCP on one port: take a free UDP port and retry until the
        // same TCP port is free too.
        let (udp, tcp, addr) = (0..50)
            .find_map(|_| Self::bind("127.0.0.1:0"))
            .expect("a free UDP+TCP port on 127.0.0.1");
        Self::serve(udp, tcp, addr)
    }

    /// A server on exactly `addr` (port 53 for a system resolver, which
    /// asks no other port), if it is free. The benchmarks use it.
    #[allow(dead_code)]
    pub fn start_on(addr: &str) -> Option<DnsServer> {
        let (udp, tcp, addr) = Self::bind(addr)?;
        Some(Self::serve(udp, tcp, addr))
    }

    fn bind(addr: &str) -> Option<(UdpSocket, TcpListener, SocketAddr)> {
        let udp = UdpSocket::bind(addr).ok()?;
        let addr = udp.local_addr().ok()?;
        let tcp = TcpListener::bind(addr).ok()?;
        Some((udp, tcp, addr))
    }

    fn serve(udp: UdpSocket, tcp: TcpListener, addr: SocketAddr) -> DnsServer {
        let zone = Arc::new(Mutex::new(Zone::default()));
        let z = zone.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, from)) = udp.recv_from(&mut buf) {
                if let Some(reply) = answer(&z, &buf[..n]) {
                    let delay = z.lock().unwrap().delay;
                    let sock = udp.try_clone().unwrap();
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        let _ = sock.send_to(&reply, from);
                    });
                }
            }
        });
        let z = zone.clone();
        std::thread::spawn(move || {
            for mut stream in tcp.incoming().flatten() {
                let mut len = [0u8; 2];
                if stream.read_exact(&mut len).is_err() {
                    continue;
                }
                let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
                if stream.read_exact(&mut msg).is_err() {
                    continue;
                }
                if let Some(reply) = answer(&z, &msg) {
                    let _ = stream.write_all(&(reply.len() as u16).to_be_bytes());
                    let _ = stream.write_all(&reply);
                }
            }
        });
        DnsServer { addr, zone }
    }

    pub fn add(&self, name: &str, entry: Entry) -> &Self {
        self.zone
            .lock()
            .unwrap()
            .records
            .entry(key(name))
            .or_default()
            .push(entry);
        self
    }

    pub fn a(&self, name: &str, ip: &str) -> &Self {
        self.add(name, Entry::Addr(ip.parse().unwrap()))
    }

    pub fn cname(&self, name: &str, target: &str) -> &Self {
        self.add(name, Entry::Cname(target.to_string()))
    }

    /// `name` is a CNAME to the name with these raw labels, which has `ip`.
    pub fn cname_raw(&self, name: &str, labels: &[&[u8]], ip: &str) -> &Self {
        let labels = labels.iter().map(|l| l.to_vec()).collect();
        self.add(name, Entry::RawCname(labels, ip.parse().unwrap()))
    }

    /// Answer each query only after `delay`. The benchmarks use it.
    #[allow(dead_code)]
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.zone.lock().unwrap().delay = delay;
    }

    /// Stop answering (queries time out).
    pub fn go_silent(&self) {
        self.zone.lock().unwrap().silent = true;
    }

    pub fn asked(&self) -> Vec<String> {
        self.zone.lock().unwrap().asked.clone()
    }

    /// `--dns-server` value.
    pub fn flag(&self) -> String {
        self.addr.to_string()
    }
}

fn answer(zone: &Mutex<Zone>, query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let q = request.queries.first()?.clone();
    let mut zone = zone.lock().unwrap();
    zone.asked.push(key(&q.name().to_string()));
    if zone.silent {
        return None;
    }
    let mut reply = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(q.clone());
    let mut name = key(&q.name().to_string());
    let mut found = false;
    for _ in 0..8 {
        let Some(entries) = zone.records.get(&name).cloned() else {
            break;
        };
        found = true;
        let owner = Name::from_ascii(format!("{name}.")).unwrap();
        let mut next = None;
        for e in entries {
            match e {
                Entry::Cname(target) => {
                    let t = Name::from_ascii(format!("{}.", key(&target))).unwrap();
                    reply.add_answer(Record::from_rdata(
                        owner.clone(),
                        60,
                        RData::CNAME(CNAME(t)),
                    ));
                    next = Some(key(&target));
                }
                Entry::Addr(IpAddr::V4(ip)) if q.query_type() == RecordType::A => {
                    reply.add_answer(Record::from_rdata(owner.clone(), 60, RData::A(A(ip))));
                }
                Entry::Addr(IpAddr::V6(ip)) if q.query_type() == RecordType::AAAA => {
                    reply.add_answer(Record::from_rdata(owner.clone(), 60, RData::AAAA(AAAA(ip))));
                }
                Entry::Addr(_) => {}
                Entry::RawCname(labels, ip) => {
                    let target = Name::from_labels(
                        labels
                            .iter()
                            .map(|l| hickory_proto::rr::domain::Label::from_raw_bytes(l).unwrap()),
                    )
                    .unwrap();
                    let mut target = target;
                    target.set_fqdn(true);
                    reply.add_answer(Record::from_rdata(
                        owner.clone(),
                        60,
                        RData::CNAME(CNAME(target.clone())),
                    ));
                    match ip {
                        IpAddr::V4(v4) if q.query_type() == RecordType::A => {
                            reply.add_answer(Record::from_rdata(target, 60, RData::A(A(v4))));
                        }
                        IpAddr::V6(v6) if q.query_type() == RecordType::AAAA => {
                            reply.add_answer(Record::from_rdata(target, 60, RData::AAAA(AAAA(v6))));
                        }
                        _ => {}
                    }
                }
            }
        }
        match next {
            Some(n) => name = n,
            None => break,
        }
    }
    if !found {
        reply.metadata.response_code = ResponseCode::NXDomain;
    }
    reply.to_vec().ok()
}
