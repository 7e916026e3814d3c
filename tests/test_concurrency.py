"""Two editors saving the same facility at once: exactly one wins, the other gets 412."""

from __future__ import annotations

import threading

from .conftest import create


def test_two_editors_with_the_same_if_match_exactly_one_wins(client, app, make_key):
    first, second = make_key("editor", ("500109",)), make_key("editor", ("500109",))
    facility = create(client, first)
    url = f"/api/v1/facilities/{facility['id']}"
    etag = client.get(url).headers["ETag"]
    start = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def save(name: str, headers: dict, vacancies: int) -> None:
        own = app.test_client()
        start.wait()
        response = own.patch(url, json={"vacancies": vacancies},
                             headers={**headers, "If-Match": etag})
        statuses[name] = response.status_code

    threads = [threading.Thread(target=save, args=("first", first, 1)),
               threading.Thread(target=save, args=("second", second, 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [200, 412]
    winner = 1 if statuses["first"] == 200 else 2
    after = client.get(url)
    assert after.json["vacancies"] == winner
    assert after.headers["ETag"] != etag


def test_many_concurrent_writers_all_succeed_without_database_is_locked(client, app, admin):
    facility = create(client, admin)
    url = f"/api/v1/facilities/{facility['id']}"
    start = threading.Barrier(6)
    statuses: list[int] = []

    def save(vacancies: int) -> None:
        own = app.test_client()
        start.wait()
        for _ in range(5):
            statuses.append(own.patch(url, json={"vacancies": vacancies},
                                      headers=admin).status_code)
            statuses.append(own.get("/api/v1/facilities").status_code)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 60
