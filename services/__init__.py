"""Reference BuckyOS services built only on the public runtime API.

system_config   the zone's configuration store (kRPC api ``system_config``)
verify_hub      logins and session tokens (kRPC api ``verify-hub``)
gateway         the node gateway on 3180, forwarding ``/kapi/<service>``
zone            a local zone on loopback: identity, processes, config files
"""
