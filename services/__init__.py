"""Reference BuckyOS services built only on the public runtime API.

system_config   the zone's configuration store (kRPC api ``system_config``)
verify_hub      logins and session tokens (kRPC api ``verify-hub``)
gateway         the node gateway on 3180, forwarding ``/kapi/<service>``
zone            a local zone on loopback: identity, processes, config files
launch          how ``python -m buckyos.services.<service>`` starts: a Ctrl-C while it
                is still importing is one line and exit 130, not a traceback
"""

from .launch import guard_launch as _guard_launch

# First, before a service's package imports anything: `python -m buckyos.services.<x>`.
_guard_launch(__name__)
