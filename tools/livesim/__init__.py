"""livesim: what a webcam sees of a live person — or of an attack — in front of this screen.

Test tooling (never deployed, never imported by the package). The one thing that makes a
"genuine" burst genuine here is the one thing an attacker cannot make in advance: the face
reflects THIS session's light schedule, in time, with a physically plausible strength and delay
(README.md lists every parameter, its range and its source). Head motion is rendered in 3-D from
one photo — exactly what an attacker can also do, so motion alone is never evidence of life.

- :mod:`livesim.people`: real photos of different people that ship in packages.
- :mod:`livesim.head`: a 3-D head from one photo, rendered at any yaw and pitch.
- :mod:`livesim.motion`: a person performing the challenge's moves (human timing).
- :mod:`livesim.light`: the screen's light on the face, the body and the room.
- :mod:`livesim.camera`: a webcam's blur, exposure, white balance, noise; the page's JPEG.
- :mod:`livesim.bursts`: genuine bursts and every attack, as the page would send them.
- :mod:`livesim.challenges`: challenges drawn from a seed.
- :mod:`livesim.clips`: pose clips for the browser harness (it adds the light itself).
- :mod:`livesim.measure`: sanity measurements of a burst's colour against a schedule.
"""
