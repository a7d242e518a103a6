"""One of several processes sending the same events at once (tests/hotline/test_ingest.py).

Run as ``python -m tests.hotline._race_worker SEED`` with a file SQLite database (demo mode).
"""

import random
import sys


def main() -> None:
    import django

    django.setup()
    from refuge.hotline import services
    from tests.hotline.helpers import race_events

    events = race_events()
    random.Random(int(sys.argv[1])).shuffle(events)
    recorded = sum(services.call_event_ingest(inbound=e).status == "recorded" for e in events)
    print(recorded)


if __name__ == "__main__":
    main()
