"""Waypoint kinematics of air-breathing threats: one-way attack drones, cruise missiles.

A route is a list of waypoints (latitude, longitude, altitude) flown from a launch
time. Many routes are planned and evaluated at once (structure of arrays): the
waypoints of all N routes are one flat array and ``offsets`` says which belong to
which route. The final waypoint is the target: arrival there is the impact (or the
end of the route).

Kinematic model
---------------
A point mass with no wind, no acceleration limits on speed changes, no bank or
pitch dynamics and no terrain.

Horizontal path
    Great-circle legs on the *navigation sphere* of radius
    ``NAV_SPHERE_RADIUS_M = 6371008.8`` m (the IUGG mean Earth radius R1). Latitudes
    and longitudes on that sphere are used as WGS84 geodetic latitude and longitude,
    and positions are output in WGS84 ECEF (Earth-fixed, rotating). Along-track
    distances, leg lengths and speeds are measured on the sphere at zero altitude.

Speed
    ``speed_mps[k]`` is the ground speed (on the navigation sphere) of the leg that
    ends at waypoint k; the first waypoint's value is ignored. The speed changes
    instantly at the waypoint's *station*: the point of closest approach to the
    waypoint, which is the midpoint of its turn arc (the waypoint itself when there is
    no turn). Because the speed is constant between stations, "linear in along-track
    distance" and "linear in time" are the same thing on a flown leg.

Fly-by turns
    At every interior waypoint the vehicle flies a coordinated turn of radius
    ``R = max(v_in, v_out) / max_turn_rate_rad_s``: the larger of the two adjacent
    leg speeds, so that the turn rate (v / R) never exceeds the limit on either half
    of the arc (the first half is flown at the incoming leg's speed, the second half
    at the outgoing one's). The arc is the small circle of geodesic curvature 1/R
    (angular radius ``rho = atan(R / R_nav)``) tangent to both great circles. It starts
    at the tangent point a distance ``d = R_nav * asin(tan(rho) * tan(dpsi / 2))``
    (= ``R tan(dpsi / 2)`` to a relative 1e-7 for R of km) before the waypoint and ends
    on the next leg's great circle the same distance after it; ``dpsi`` is the heading
    change at the waypoint. The heading turned through on the arc is ``dpsi`` plus the
    spherical excess of the cut-off corner (about 1e-7 rad for R of a few km).
    ``max_turn_rate_rad_s = inf`` gives sharp corners.

Feasibility
    A turn's anticipation distance d may use at most half of an adjacent leg, or the
    whole leg when the other end of that leg is the first or last waypoint (which have
    no turn). Otherwise, or when the turn is too sharp for any tangent circle, the route
    is infeasible and :func:`plan_routes` raises :class:`RouteError` (a ``ValueError``)
    naming the route and the waypoint. Coincident or antipodal consecutive waypoints are
    rejected too.

Altitude
    Altitude is geodetic height above the WGS84 ellipsoid. The *commanded* altitude is
    piecewise linear in along-track distance between the waypoint stations (waypoint k's
    altitude at waypoint k's station). The vehicle follows the command with its vertical
    speed limited to ``climb_rate_mps`` (up and down alike): where a leg asks for more,
    it climbs or descends at the limit, lags the command, and once it has caught up it
    holds / follows the command again. So a steep leg's altitude is reached after the
    waypoint (and a waypoint whose neighbouring legs reverse the climb may be cut
    short); the altitude is piecewise linear in time. The target's altitude must be
    reached by arrival, otherwise the route is infeasible (``ValueError``): add a
    waypoint to start the dive or climb earlier, or raise the limit.

States
    A route is flying for ``launch_time_s <= t < arrival_time_s``; before launch the
    state is the launch point (first waypoint), after arrival the target point, both
    with zero velocity. The velocity is the analytic time derivative of the ECEF
    position (relative to the rotating Earth): the along-path ground speed mapped
    through the sphere-to-ellipsoid correspondence, plus the vertical rate along the
    ellipsoid normal. Because of that mapping the ECEF horizontal speed differs from the
    nominal ground speed by the ratio of the ellipsoid's radii of curvature (plus
    altitude) to R_nav: within about 0.6 %. The heading is the course over ground on
    the navigation sphere, degrees clockwise from north in [0, 360); the azimuth of the
    ECEF velocity in the geodetic ENU frame differs from it by at most about 0.2 deg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from hoplon.core.earth import WGS84, _geodetic_to_ecef

__all__ = [
    "ARRIVED",
    "FLYING",
    "NAV_SPHERE_RADIUS_M",
    "NOT_LAUNCHED",
    "SEGMENT_ARC",
    "SEGMENT_STRAIGHT",
    "RouteError",
    "RoutePlan",
    "RouteStates",
    "arrival_time_s",
    "heading_deg_at",
    "plan_routes",
    "route_length_m",
    "route_states",
    "route_states_at",
]

NAV_SPHERE_RADIUS_M = 6371008.8
"""Radius of the navigation sphere that carries the horizontal path (IUGG mean radius R1), m."""

NOT_LAUNCHED = 0
"""Status: the time is before the route's launch time."""
FLYING = 1
"""Status: launch_time_s <= t < arrival_time_s."""
ARRIVED = 2
"""Status: the route has reached its final waypoint (the target)."""

SEGMENT_STRAIGHT = 0
"""Segment kind: a piece of a great circle."""
SEGMENT_ARC = 1
"""Segment kind: half of a fly-by turn arc (a small circle)."""


class RouteError(ValueError):
    """Infeasible or malformed routes: one line per problem, ``route i, waypoint k: ...``.

    ``problems`` holds ``(route, waypoint, message)`` with indices within the batch and
    within the route, so a caller can map them back to its own names; ``route`` and
    ``waypoint`` are those of the first problem.
    """

    def __init__(self, problems: tuple[tuple[int, int, str], ...]) -> None:
        self.problems = tuple(problems)
        self.route, self.waypoint = self.problems[0][:2]
        super().__init__("\n".join(f"route {i}, waypoint {k}: {m}" for i, k, m in self.problems))


_R = NAV_SPHERE_RADIUS_M
_A = WGS84.a_m
_E2 = WGS84.e2

# Error codes of the planner kernel.
_ERR_TURN = 1
_ERR_ALTITUDE = 2
_ERR_COINCIDENT = 3
_ERR_ANTIPODAL = 4

_ALT_TOL_M = 1e-6


# --------------------------------------------------------------------------- vectors


@numba.njit(cache=True)
def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


@numba.njit(cache=True)
def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


@numba.njit(cache=True)
def _lin(a, ka, b, kb):
    """ka * a + kb * b."""
    return (ka * a[0] + kb * b[0], ka * a[1] + kb * b[1], ka * a[2] + kb * b[2])


@numba.njit(cache=True)
def _unit(a):
    n = math.sqrt(_dot(a, a))
    return (a[0] / n, a[1] / n, a[2] / n)


@numba.njit(cache=True)
def _rotate(p, axis, angle):
    """Rotate ``p`` by ``angle`` (rad, right-handed) about the unit vector ``axis``."""
    c = math.cos(angle)
    s = math.sin(angle)
    x = _cross(axis, p)
    d = _dot(axis, p) * (1.0 - c)
    return (
        p[0] * c + x[0] * s + axis[0] * d,
        p[1] * c + x[1] * s + axis[1] * d,
        p[2] * c + x[2] * s + axis[2] * d,
    )


@numba.njit(cache=True)
def _row(m, i):
    return (m[i, 0], m[i, 1], m[i, 2])


# --------------------------------------------------------------------------- planner


@numba.njit(cache=True)
def _put_segment(seg, k, kind, to_wp, p0, axis, rate, length, s, t, v):
    """Write segment k into the tuple of segment arrays ``seg`` (see ``plan_routes``)."""
    seg_kind, seg_to_wp, seg_p0, seg_axis, seg_rate, seg_len, seg_s0, seg_t0, seg_v = seg
    seg_kind[k] = kind
    seg_to_wp[k] = to_wp
    for c in range(3):
        seg_p0[k, c] = p0[c]
        seg_axis[k, c] = axis[c]
    seg_rate[k] = rate
    seg_len[k] = length
    seg_s0[k] = s
    seg_t0[k] = t
    seg_v[k] = v


@numba.njit(cache=True)
def _put_knot(q, t, h, rate, knot_t, knot_h, knot_rate):
    knot_t[q] = t
    knot_h[q] = h
    knot_rate[q] = rate
    return q + 1


@numba.njit(cache=True)
def _plan_kernel(
    u,
    alt,
    speed,
    wp_off,
    omega,
    climb,
    launch,
    seg_off,
    knot_off,
    seg,
    wp,
    knots,
    route,
    err,
    err_val,
):
    """Plan every route (loop over routes); see ``plan_routes`` for the tuples' layout."""
    wp_s, wp_t, wp_radius, wp_antic, wp_turn = wp
    knot_t, knot_h, knot_rate, knot_n = knots
    length, arrival = route
    n_routes = wp_off.size - 1
    for i in range(n_routes):
        a = wp_off[i]
        n = wp_off[i + 1] - a
        pole = np.zeros((n, 3))
        leg_len = np.zeros(n)
        bad = False
        # Legs: great-circle poles (unit normals; the left-hand side of travel) and lengths.
        for j in range(1, n):
            pa = _row(u, a + j - 1)
            pb = _row(u, a + j)
            cr = _cross(pa, pb)
            sn = math.sqrt(_dot(cr, cr))
            cs = _dot(pa, pb)
            if sn < 1e-12:
                err[i, 0] = _ERR_COINCIDENT if cs > 0.0 else _ERR_ANTIPODAL
                err[i, 1] = j
                bad = True
                break
            for ax in range(3):
                pole[j, ax] = cr[ax] / sn
            leg_len[j] = _R * math.atan2(sn, cs)
        if bad:
            continue
        # Turns at interior waypoints.
        antic = np.zeros(n)
        tan_rho = np.zeros(n)
        sigma = np.ones(n)
        for j in range(1, n - 1):
            pp = _row(u, a + j)
            t1 = _cross(_row(pole, j), pp)
            t2 = _cross(_row(pole, j + 1), pp)
            delta = math.atan2(_dot(_cross(t1, t2), pp), _dot(t1, t2))  # > 0: left turn
            radius = max(speed[a + j], speed[a + j + 1]) / omega[i]
            tr = radius / _R
            arg = tr * math.tan(0.5 * abs(delta))
            wp_radius[a + j] = radius
            wp_turn[a + j] = -math.degrees(delta)
            tan_rho[j] = tr
            sigma[j] = 1.0 if delta >= 0.0 else -1.0
            if not arg < 1.0:
                antic[j] = np.inf
            else:
                antic[j] = _R * math.asin(arg)
            wp_antic[a + j] = antic[j]
        for j in range(1, n - 1):
            before = leg_len[j] if j == 1 else 0.5 * leg_len[j]
            after = leg_len[j + 1] if j + 1 == n - 1 else 0.5 * leg_len[j + 1]
            avail = min(before, after)
            if not antic[j] <= avail * (1.0 + 1e-12):
                err[i, 0] = _ERR_TURN
                err[i, 1] = j
                err_val[i, 0] = antic[j]
                err_val[i, 1] = avail
                err_val[i, 2] = wp_radius[a + j]
                err_val[i, 3] = wp_turn[a + j]
                bad = True
                break
        if bad:
            continue
        # Segments: per flown leg j, [second half of turn j-1], straight, [first half of turn j].
        k = seg_off[i]
        s = 0.0
        t = launch[i]
        wp_s[a] = 0.0
        wp_t[a] = t
        mid = (0.0, 0.0, 0.0)
        arc_axis = (0.0, 0.0, 0.0)
        arc_rate = 0.0
        arc_half = 0.0
        for j in range(1, n):
            v = speed[a + j]
            if j >= 2:
                _put_segment(seg, k, SEGMENT_ARC, j, mid, arc_axis, arc_rate, arc_half, s, t, v)
                k += 1
                s += arc_half
                t += arc_half / v
            pj = _row(pole, j)
            p_from = _row(u, a + j - 1)
            th = antic[j - 1] / _R
            p0 = _lin(p_from, math.cos(th), _cross(pj, p_from), math.sin(th))
            straight = max(leg_len[j] - antic[j - 1] - antic[j], 0.0)
            _put_segment(seg, k, SEGMENT_STRAIGHT, j, p0, pj, 1.0 / _R, straight, s, t, v)
            k += 1
            s += straight
            t += straight / v
            if j <= n - 2:
                # Turn at waypoint j: the small circle tangent to both great circles.
                pp = _row(u, a + j)
                th = antic[j] / _R
                ct = math.cos(th)
                st = math.sin(th)
                t1 = _cross(pj, pp)
                t2 = _cross(_row(pole, j + 1), pp)
                tp1 = _lin(pp, ct, t1, -st)
                tp2 = _lin(pp, ct, t2, st)
                tr = tan_rho[j]
                cos_rho = 1.0 / math.sqrt(1.0 + tr * tr)
                sin_rho = tr * cos_rho
                sg = sigma[j]
                centre = _unit(_lin(tp1, cos_rho, pj, sg * sin_rho))
                v1 = _lin(tp1, 1.0, centre, -_dot(centre, tp1))
                v2 = _lin(tp2, 1.0, centre, -_dot(centre, tp2))
                phi = math.atan2(sg * _dot(_cross(v1, v2), centre), _dot(v1, v2))
                phi = max(phi, 0.0)
                arc_axis = (sg * centre[0], sg * centre[1], sg * centre[2])
                arc_rate = 1.0 / (_R * sin_rho) if sin_rho > 0.0 else 0.0
                arc_half = 0.5 * phi * _R * sin_rho
                mid = _rotate(tp1, arc_axis, 0.5 * phi)
                _put_segment(seg, k, SEGMENT_ARC, j, tp1, arc_axis, arc_rate, arc_half, s, t, v)
                k += 1
                s += arc_half
                t += arc_half / v
            wp_s[a + j] = s
            wp_t[a + j] = t
        length[i] = s
        arrival[i] = t
        # Altitude: rate-limited follower of the commanded profile (linear between stations).
        c = climb[i]
        c_ok = c * (1.0 + 1e-12)  # a command at the limit (to rounding) is followed exactly
        q = knot_off[i]
        h = alt[a]
        for j in range(1, n):
            t0 = wp_t[a + j - 1]
            t1_ = wp_t[a + j]
            dt = t1_ - t0
            m = (alt[a + j] - alt[a + j - 1]) / dt if dt > 0.0 else 0.0
            e = alt[a + j - 1] - h
            if abs(e) <= _ALT_TOL_M:
                if abs(m) <= c_ok:
                    q = _put_knot(q, t0, h, m, knot_t, knot_h, knot_rate)
                    h = alt[a + j]
                else:
                    r = math.copysign(c, m)
                    q = _put_knot(q, t0, h, r, knot_t, knot_h, knot_rate)
                    h = h + r * dt
            else:
                sg = 1.0 if e > 0.0 else -1.0
                r = sg * c
                closing = c - sg * m
                q = _put_knot(q, t0, h, r, knot_t, knot_h, knot_rate)
                if closing > 0.0 and abs(e) / closing < dt:
                    t_catch = t0 + abs(e) / closing
                    h_catch = h + r * (t_catch - t0)
                    if abs(m) <= c_ok:
                        q = _put_knot(q, t_catch, h_catch, m, knot_t, knot_h, knot_rate)
                        h = alt[a + j]
                    else:
                        r2 = math.copysign(c, m)
                        q = _put_knot(q, t_catch, h_catch, r2, knot_t, knot_h, knot_rate)
                        h = h_catch + r2 * (t1_ - t_catch)
                else:
                    h = h + r * dt
        if abs(h - alt[a + n - 1]) > _ALT_TOL_M:
            err[i, 0] = _ERR_ALTITUDE
            err[i, 1] = n - 1
            err_val[i, 0] = h
            err_val[i, 1] = alt[a + n - 1]
            err_val[i, 2] = c
            continue
        q = _put_knot(q, arrival[i], alt[a + n - 1], 0.0, knot_t, knot_h, knot_rate)
        knot_n[i] = q - knot_off[i]


# --------------------------------------------------------------------------- evaluation


@numba.njit(cache=True)
def _last_le(arr, lo, hi, x):
    """Largest index j in [lo, hi) with arr[j] <= x (lo when none)."""
    hi -= 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if arr[mid] <= x:
            lo = mid
        else:
            hi = mid - 1
    return lo


@numba.njit(cache=True)
def _state_into(o, i, t, pl, out):
    """State of route i at time t (s) into row o of the output tuple ``out``; ``pl`` is
    the tuple of plan arrays of ``_plan_args``."""
    (seg_off, seg_to_wp, seg_p0, seg_axis, seg_rate, seg_len, seg_t0, seg_v,
     knot_off, knot_t, knot_h, knot_rate, launch, arrival) = pl  # fmt: skip
    r_out, v_out, lat_out, lon_out, alt_out, hdg_out, vs_out, gs_out, status_out, leg_out = out
    t_launch = launch[i]
    t_arrival = arrival[i]
    tt = min(max(t, t_launch), t_arrival)
    status = NOT_LAUNCHED if t < t_launch else (ARRIVED if t >= t_arrival else FLYING)
    flying = 1.0 if status == FLYING else 0.0
    j = _last_le(seg_t0, seg_off[i], seg_off[i + 1], tt)
    s_loc = min(max((tt - seg_t0[j]) * seg_v[j], 0.0), seg_len[j])
    axis = _row(seg_axis, j)
    rate = seg_rate[j]
    p = _rotate(_row(seg_p0, j), axis, s_loc * rate)
    w = _cross(axis, p)
    w_scale = rate * _R  # |w| * w_scale = 1 on any segment of non-zero length
    k = _last_le(knot_t, knot_off[i], knot_off[i + 1], tt)
    h = knot_h[k] + knot_rate[k] * (tt - knot_t[k])
    # Local axes straight from the unit vector (no trigonometry); at a pole, lon = 0.
    rho = math.sqrt(p[0] * p[0] + p[1] * p[1])
    lat = math.atan2(p[2], rho)
    lon = math.atan2(p[1], p[0])
    nrm = math.sqrt(rho * rho + p[2] * p[2])
    sl = p[2] / nrm
    cl = rho / nrm
    if rho > 0.0:
        co = p[0] / rho
        so = p[1] / rho
    else:
        co = 1.0
        so = 0.0
    east = (-so, co, 0.0)
    north = (-sl * co, -sl * so, cl)
    up = (cl * co, cl * so, sl)
    ue = _dot(w, east) * w_scale
    un = _dot(w, north) * w_scale
    x, y, z = _geodetic_to_ecef(lat, lon, h, _A, _E2)
    r_out[o, 0] = x
    r_out[o, 1] = y
    r_out[o, 2] = z
    lat_out[o] = math.degrees(lat)
    lon_out[o] = math.degrees(lon)
    alt_out[o] = h
    hdg = math.degrees(math.atan2(ue, un)) % 360.0
    hdg_out[o] = hdg if hdg < 360.0 else 0.0
    status_out[o] = status
    leg_out[o] = seg_to_wp[j]
    v = seg_v[j] * flying
    vz = knot_rate[k] * flying
    d = 1.0 - _E2 * sl * sl
    n_rad = _A / math.sqrt(d)
    m_rad = n_rad * (1.0 - _E2) / d
    kn = (m_rad + h) / _R * v * un
    ke = (n_rad + h) / _R * v * ue
    v_out[o, 0] = kn * north[0] + ke * east[0] + vz * up[0]
    v_out[o, 1] = kn * north[1] + ke * east[1] + vz * up[1]
    v_out[o, 2] = kn * north[2] + ke * east[2] + vz * up[2]
    vs_out[o] = vz
    gs_out[o] = v


@numba.njit(cache=True, parallel=True)
def _grid_kernel(time, pl, out):
    """All routes (in parallel) at every time of the grid ``time`` (M,): row i * M + j."""
    n = pl[12].size
    m = time.size
    for i in numba.prange(n):
        for jt in range(m):
            _state_into(i * m + jt, i, time[jt], pl, out)


@numba.njit(cache=True, parallel=True)
def _pairs_kernel(route, time, pl, out):
    """Route ``route[o]`` at time ``time[o]`` into row o, in parallel over pairs."""
    for o in numba.prange(route.size):
        _state_into(o, route[o], time[o], pl, out)


# --------------------------------------------------------------------------- public API


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class RoutePlan:
    """Planned routes of N air-breathing vehicles, as flat arrays (read-only).

    Per route (N,): ``launch_time_s``, ``arrival_time_s`` (absolute, s), ``length_m``
    (along-track, m). Per waypoint (W,), route i owning ``waypoint_offsets[i]:[i+1]``:
    the along-track distance (m) and absolute time (s) of the waypoint's station (its
    closest approach: the turn arc's midpoint), the turn radius (m), anticipation
    distance (m) and heading change (deg, positive = right / clockwise), zero at the
    first and last waypoints.

    Per segment (S,), route i owning ``segment_offsets[i]:[i+1]`` in flight order:
    kind (``SEGMENT_STRAIGHT`` or ``SEGMENT_ARC``), the index within its route of the
    waypoint that ends its flown leg, the start point and rotation axis as unit vectors
    (3,) of the navigation sphere (the point after ``s`` metres is the start point rotated
    by ``s * segment_rate_rad_per_m`` about the axis), length (m), along-track distance
    (m) and absolute time (s) of its start, and its ground speed (m/s).

    Altitude, route i owning ``altitude_offsets[i]:[i+1]``: knots of a piecewise linear
    profile in time, ``alt = altitude_knot_m[k] + altitude_rate_mps[k] * (t -
    altitude_knot_time_s[k])`` from knot k to the next.
    """

    launch_time_s: np.ndarray
    arrival_time_s: np.ndarray
    length_m: np.ndarray
    waypoint_offsets: np.ndarray
    waypoint_distance_m: np.ndarray
    waypoint_time_s: np.ndarray
    turn_radius_m: np.ndarray
    turn_anticipation_m: np.ndarray
    turn_angle_deg: np.ndarray
    segment_offsets: np.ndarray
    segment_kind: np.ndarray
    segment_to_waypoint: np.ndarray
    segment_start_unit: np.ndarray
    segment_axis_unit: np.ndarray
    segment_rate_rad_per_m: np.ndarray
    segment_length_m: np.ndarray
    segment_start_distance_m: np.ndarray
    segment_start_time_s: np.ndarray
    segment_speed_mps: np.ndarray
    altitude_offsets: np.ndarray
    altitude_knot_time_s: np.ndarray
    altitude_knot_m: np.ndarray
    altitude_rate_mps: np.ndarray

    @property
    def n_routes(self) -> int:
        """Number of routes N."""
        return int(self.launch_time_s.size)


@dataclass(frozen=True, eq=False)
class RouteStates:
    """States of routes at times: (N, M) for :func:`route_states`, the pairs' shape for
    :func:`route_states_at`; vectors carry a trailing axis of 3.

    ``r_ecef_m`` WGS84 ECEF position (m); ``v_ecef_mps`` Earth-relative ECEF velocity
    (m/s, zero unless flying); ``lat_deg``, ``lon_deg`` geodetic; ``alt_m`` height above
    the ellipsoid; ``heading_deg`` course over ground, clockwise from north in [0, 360)
    (the launch course before launch, the final course after arrival);
    ``vertical_rate_mps`` and ``ground_speed_mps`` (zero unless flying); ``status``
    ``NOT_LAUNCHED`` / ``FLYING`` / ``ARRIVED`` (int8); ``to_waypoint`` the index within
    its route of the waypoint that ends the leg being flown (int32).
    """

    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    heading_deg: np.ndarray
    vertical_rate_mps: np.ndarray
    ground_speed_mps: np.ndarray
    status: np.ndarray
    to_waypoint: np.ndarray


def _per_route(x, n: int, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape != (n,)):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got {arr.shape}")
    return np.array(np.broadcast_to(arr, (n,)), dtype=np.float64, copy=True)


def _route_of(flat: np.ndarray, offsets: np.ndarray) -> tuple[int, int]:
    i = int(np.searchsorted(offsets, flat, side="right") - 1)
    return i, int(flat - offsets[i])


def plan_routes(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    alt_m: np.ndarray,
    speed_mps: np.ndarray,
    offsets: np.ndarray,
    *,
    max_turn_rate_rad_s: np.ndarray | float,
    climb_rate_mps: np.ndarray | float,
    launch_time_s: np.ndarray | float,
) -> RoutePlan:
    """Plan N waypoint routes (see the module docstring for the kinematic model).

    ``lat_deg``, ``lon_deg`` (deg), ``alt_m`` (m above the WGS84 ellipsoid) and
    ``speed_mps`` (m/s, the ground speed of the leg ending at each waypoint; the first
    waypoint's value is ignored) hold the waypoints of all routes, shape (W,); route i
    owns ``offsets[i]:offsets[i+1]`` (``offsets`` (N+1,), from 0 to W, at least two
    waypoints a route). ``max_turn_rate_rad_s`` (rad/s, ``inf``: sharp corners),
    ``climb_rate_mps`` (m/s, the vertical speed limit up and down; ``inf``: none) and
    ``launch_time_s`` (s) are per route, (N,) or scalars.

    Raises :class:`RouteError` (a ``ValueError``) naming every bad route and waypoint
    (index within its route), one line each, for bad waypoint values or infeasible routes
    (a turn longer than its legs allow, the target altitude out of reach under the climb
    limit, coincident or antipodal consecutive waypoints); ``ValueError`` for malformed
    arrays.
    """
    offsets = np.asarray(offsets)
    if offsets.ndim != 1 or offsets.size < 2 or not np.issubdtype(offsets.dtype, np.integer):
        raise ValueError("offsets must be a 1-D integer array of N+1 >= 2 route boundaries")
    # Fresh writeable copies: never alias the caller's arrays, one numba signature.
    offsets = np.array(offsets, dtype=np.int64, copy=True)
    lat = np.array(lat_deg, dtype=np.float64, copy=True)
    lon = np.array(lon_deg, dtype=np.float64, copy=True)
    alt = np.array(alt_m, dtype=np.float64, copy=True)
    speed = np.array(speed_mps, dtype=np.float64, copy=True)
    if lat.ndim != 1:
        raise ValueError(
            f"lat_deg must be 1-D (all routes' waypoints, flattened), got shape {lat.shape}"
        )
    w = lat.size
    for name, arr in (("lat_deg", lat), ("lon_deg", lon), ("alt_m", alt), ("speed_mps", speed)):
        if arr.shape != (w,):
            raise ValueError(f"{name} must have shape ({w},) like lat_deg, got {arr.shape}")
    if offsets[0] != 0 or offsets[-1] != w:
        raise ValueError(f"offsets must start at 0 and end at the number of waypoints {w}")
    counts = np.diff(offsets)
    if np.any(counts < 2):
        i = int(np.argmax(counts < 2))
        raise ValueError(f"route {i}: a route needs at least two waypoints, got {int(counts[i])}")
    n = offsets.size - 1
    first = np.zeros(w, dtype=bool)
    first[offsets[:-1]] = True
    checks = (
        (~np.isfinite(lat) | (np.abs(lat) > 90.0), "lat_deg must be finite and within [-90, 90]"),
        (~np.isfinite(lon), "lon_deg must be finite"),
        (~np.isfinite(alt), "alt_m must be finite"),
        (~first & ~(np.isfinite(speed) & (speed > 0.0)), "speed_mps must be finite and positive"),
    )
    for bad, message in checks:
        if np.any(bad):
            raise RouteError(
                tuple((*_route_of(int(f), offsets), message) for f in np.flatnonzero(bad))
            )
    omega = _per_route(max_turn_rate_rad_s, n, "max_turn_rate_rad_s")
    climb = _per_route(climb_rate_mps, n, "climb_rate_mps")
    launch = _per_route(launch_time_s, n, "launch_time_s")
    for name, arr in (("max_turn_rate_rad_s", omega), ("climb_rate_mps", climb)):
        bad = ~(arr > 0.0)  # NaN too; +inf allowed
        if np.any(bad):
            raise ValueError(f"route {int(np.argmax(bad))}: {name} must be positive")
    if not np.all(np.isfinite(launch)):
        raise ValueError(
            f"route {int(np.argmax(~np.isfinite(launch)))}: launch_time_s must be finite"
        )

    lat_r = np.radians(lat)
    lon_r = np.radians(lon)
    u = np.ascontiguousarray(
        np.stack(
            [np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)], axis=1
        )
    )
    seg_counts = 3 * counts - 5
    seg_off = np.concatenate([[0], np.cumsum(seg_counts)]).astype(np.int64)
    knot_counts = 2 * counts - 1
    knot_off_ub = np.concatenate([[0], np.cumsum(knot_counts)]).astype(np.int64)
    s_total = int(seg_off[-1])
    a_total = int(knot_off_ub[-1])

    seg_kind = np.zeros(s_total, dtype=np.int8)
    seg_to_wp = np.zeros(s_total, dtype=np.int32)
    seg_p0 = np.zeros((s_total, 3))
    seg_axis = np.zeros((s_total, 3))
    seg_rate = np.zeros(s_total)
    seg_len = np.zeros(s_total)
    seg_s0 = np.zeros(s_total)
    seg_t0 = np.zeros(s_total)
    seg_v = np.zeros(s_total)
    wp_s = np.zeros(w)
    wp_t = np.zeros(w)
    wp_radius = np.zeros(w)
    wp_antic = np.zeros(w)
    wp_turn = np.zeros(w)
    knot_t = np.zeros(a_total)
    knot_h = np.zeros(a_total)
    knot_rate = np.zeros(a_total)
    knot_n = np.zeros(n, dtype=np.int64)
    length = np.zeros(n)
    arrival = np.zeros(n)
    err = np.zeros((n, 2), dtype=np.int64)
    err_val = np.zeros((n, 4))
    _plan_kernel(
        u, alt, speed, offsets, omega, climb, launch, seg_off, knot_off_ub,
        (seg_kind, seg_to_wp, seg_p0, seg_axis, seg_rate, seg_len, seg_s0, seg_t0, seg_v),
        (wp_s, wp_t, wp_radius, wp_antic, wp_turn),
        (knot_t, knot_h, knot_rate, knot_n),
        (length, arrival),
        err,
        err_val,
    )  # fmt: skip
    if np.any(err[:, 0] != 0):
        _raise_plan_error(err, err_val)

    keep = np.arange(a_total) - np.repeat(knot_off_ub[:-1], knot_counts) < np.repeat(
        knot_n, knot_counts
    )
    knot_off = np.concatenate([[0], np.cumsum(knot_n)]).astype(np.int64)
    return RoutePlan(
        launch_time_s=_frozen(launch),
        arrival_time_s=_frozen(arrival),
        length_m=_frozen(length),
        waypoint_offsets=_frozen(offsets),
        waypoint_distance_m=_frozen(wp_s),
        waypoint_time_s=_frozen(wp_t),
        turn_radius_m=_frozen(wp_radius),
        turn_anticipation_m=_frozen(wp_antic),
        turn_angle_deg=_frozen(wp_turn),
        segment_offsets=_frozen(seg_off),
        segment_kind=_frozen(seg_kind),
        segment_to_waypoint=_frozen(seg_to_wp),
        segment_start_unit=_frozen(seg_p0),
        segment_axis_unit=_frozen(seg_axis),
        segment_rate_rad_per_m=_frozen(seg_rate),
        segment_length_m=_frozen(seg_len),
        segment_start_distance_m=_frozen(seg_s0),
        segment_start_time_s=_frozen(seg_t0),
        segment_speed_mps=_frozen(seg_v),
        altitude_offsets=_frozen(knot_off),
        altitude_knot_time_s=_frozen(knot_t[keep]),
        altitude_knot_m=_frozen(knot_h[keep]),
        altitude_rate_mps=_frozen(knot_rate[keep]),
    )


def _plan_problem(code: int, k: int, vals: np.ndarray) -> str:
    """The message of one planner error code for waypoint k (index within its route)."""
    if code == _ERR_TURN:
        d, avail, radius, turn = vals
        need = "no tangent circle exists" if not np.isfinite(d) else f"it needs {d:.1f} m"
        return (
            f"infeasible fly-by turn of {turn:.1f} deg at radius {radius:.1f} m: the turn "
            f"anticipation exceeds the {avail:.1f} m the adjacent legs allow (half a leg between "
            f"two turns), {need}; move the waypoints apart, soften the turn or raise the "
            "turn-rate limit"
        )
    if code == _ERR_ALTITUDE:
        reached, target, c = vals[:3]
        return (
            f"the target's altitude {target:.1f} m is not reached by arrival under the "
            f"{c:g} m/s climb-rate limit (the vehicle is at {reached:.1f} m); add a waypoint "
            "that starts the climb or dive earlier, or raise the limit"
        )
    if code == _ERR_COINCIDENT:
        return f"coincides with waypoint {k - 1} (zero-length leg)"
    return f"antipodal to waypoint {k - 1} (the great circle between them is undefined)"


def _raise_plan_error(err: np.ndarray, err_val: np.ndarray) -> None:
    problems = tuple(
        (int(i), int(err[i, 1]), _plan_problem(int(err[i, 0]), int(err[i, 1]), err_val[i]))
        for i in np.flatnonzero(err[:, 0])
    )
    raise RouteError(problems)


def _empty_states(shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    size = int(np.prod(shape))
    return (
        np.empty((size, 3)),
        np.empty((size, 3)),
        np.empty(size),
        np.empty(size),
        np.empty(size),
        np.empty(size),
        np.empty(size),
        np.empty(size),
        np.empty(size, dtype=np.int8),
        np.empty(size, dtype=np.int32),
    )


def _pack(outs: tuple[np.ndarray, ...], shape: tuple[int, ...]) -> RouteStates:
    r, v, lat, lon, alt, hdg, vs, gs, status, leg = outs
    return RouteStates(
        r_ecef_m=r.reshape(shape + (3,)),
        v_ecef_mps=v.reshape(shape + (3,)),
        lat_deg=lat.reshape(shape),
        lon_deg=lon.reshape(shape),
        alt_m=alt.reshape(shape),
        heading_deg=hdg.reshape(shape),
        vertical_rate_mps=vs.reshape(shape),
        ground_speed_mps=gs.reshape(shape),
        status=status.reshape(shape),
        to_waypoint=leg.reshape(shape),
    )


def _plan_args(plan: RoutePlan) -> tuple[np.ndarray, ...]:
    return (
        plan.segment_offsets,
        plan.segment_to_waypoint,
        plan.segment_start_unit,
        plan.segment_axis_unit,
        plan.segment_rate_rad_per_m,
        plan.segment_length_m,
        plan.segment_start_time_s,
        plan.segment_speed_mps,
        plan.altitude_offsets,
        plan.altitude_knot_time_s,
        plan.altitude_knot_m,
        plan.altitude_rate_mps,
        plan.launch_time_s,
        plan.arrival_time_s,
    )


def _check_times(t: np.ndarray) -> None:
    if np.any(np.isnan(t)):
        raise ValueError("time_s must not be NaN")


def route_states(plan: RoutePlan, time_s: np.ndarray | float) -> RouteStates:
    """States of all N routes on a common time grid ``time_s`` (M,), absolute s.

    Returns arrays of shape (N, M) (vectors (N, M, 3)); a scalar time gives (N,).
    """
    t = np.asarray(time_s, dtype=np.float64)
    if t.ndim > 1:
        raise ValueError(f"time_s must be a scalar or 1-D, got shape {t.shape}")
    _check_times(t)
    t1 = np.array(np.atleast_1d(t), dtype=np.float64, copy=True)  # one numba signature
    shape = (plan.n_routes,) if t.ndim == 0 else (plan.n_routes, t1.size)
    outs = _empty_states(shape)
    _grid_kernel(t1, _plan_args(plan), outs)
    return _pack(outs, shape)


def route_states_at(
    plan: RoutePlan, route_index: np.ndarray | int, time_s: np.ndarray | float
) -> RouteStates:
    """States at arbitrary (route, time) pairs; ``route_index`` and ``time_s`` (absolute s)
    broadcast together and the result has their broadcast shape."""
    r_idx, t = np.broadcast_arrays(np.asarray(route_index), np.asarray(time_s, dtype=np.float64))
    if r_idx.size and not np.issubdtype(r_idx.dtype, np.integer):
        raise ValueError("route_index must be integer")
    shape = r_idx.shape
    r_flat = np.array(r_idx.ravel(), dtype=np.int64, copy=True)
    t_flat = np.array(t.ravel(), dtype=np.float64, copy=True)  # one numba signature
    if r_flat.size and (r_flat.min() < 0 or r_flat.max() >= plan.n_routes):
        raise ValueError(f"route_index must lie in [0, {plan.n_routes})")
    _check_times(t_flat)
    outs = _empty_states(shape)
    _pairs_kernel(r_flat, t_flat, _plan_args(plan), outs)
    return _pack(outs, shape)


def route_length_m(plan: RoutePlan) -> np.ndarray:
    """Along-track length of each route on the navigation sphere, m, shape (N,)."""
    return plan.length_m


def arrival_time_s(plan: RoutePlan) -> np.ndarray:
    """Absolute arrival (impact) time of each route, s, shape (N,)."""
    return plan.arrival_time_s


def heading_deg_at(
    plan: RoutePlan, route_index: np.ndarray | int, time_s: np.ndarray | float
) -> np.ndarray:
    """Course over ground, deg clockwise from north in [0, 360), at (route, time) pairs
    (broadcast together); the launch course before launch, the final one after arrival."""
    hdg = route_states_at(plan, route_index, time_s).heading_deg
    return float(hdg) if hdg.ndim == 0 else hdg
