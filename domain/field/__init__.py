"""Reports from the field and the operations room that acts on them (issue 13).

- `reports`: `open_report`, the one way a report enters (by /lapor, or by a check-in answer);
  reports about the same place and category within 30 minutes join one case.
- `cases`: a case's life — baru → ditangani → selesai | dirujuk — every change an event and an
  audit entry, and who to tell.
- `posko`: the groups officials made their operations room, and which cases wait to be posted.
- `board`: open cases per kecamatan and kelurahan, by category and age (/lapangan, the shell).

Pure domain: plain data, never Telegram objects.
"""
