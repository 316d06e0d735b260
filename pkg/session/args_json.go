package session

// The script arguments of the hot paths encode themselves (jsonw.go): the
// same bytes as encoding/json for the struct tags they carry, in the same
// order (embedded structs in place), which jsonw_test.go checks. A field
// added to one of these structs must be added here too; the test fails
// until it is.

func (a *base) appendFields(w *jw) {
	w.str("p", a.P)
	w.int("now", a.Now)
	w.strOmit("ip", a.IP)
	w.strOmit("ua", a.UA)
	w.strOmit("actor", a.Actor)
	w.int("ret", a.Ret)
	w.int("tomb", a.Tomb)
	if len(a.RL) > 0 {
		array(w, "rl", a.RL, (*rlArg).appendJSON)
	}
	if len(a.LF) > 0 {
		array(w, "lf", a.LF, (*lfArg).appendJSON)
	}
	w.strOmit("uid", a.UID)
	w.strOmit("sid", a.SID)
}

func (r *rlArg) appendJSON(w *jw) {
	w.open()
	w.str("r", r.Rule)
	w.str("k", r.Key)
	w.int("n", int64(r.N))
	w.int("w", r.W)
	w.close()
}

func (f *lfArg) appendJSON(w *jw) {
	w.open()
	w.str("r", f.Rule)
	w.str("k", f.Key)
	w.int("th", int64(f.Th))
	w.int("b", f.B)
	w.int("c", f.C)
	w.float("j", f.J)
	w.close()
}

func (r *riskArgs) appendFields(w *jw) {
	if r.W != nil {
		w.key("W")
		w.open()
		w.float("device", r.W.Device)
		w.float("ua", r.W.UserAgent)
		w.float("ip_near", r.W.IPNear)
		w.float("ip_far", r.W.IPFar)
		w.float("cadence", r.W.Cadence)
		w.float("failures", r.W.Failures)
		w.close()
	}
	if r.DK {
		w.bool("dk", true)
	}
	w.strOmit("ipn", r.IPN)
	w.strOmit("uaf", r.UAF)
	w.int("cad", int64(r.Cad))
	w.int("fsat", int64(r.FSat))
}

func (a *checkArgs) appendJSON(w *jw) {
	w.open()
	a.base.appendFields(w)
	w.strOmit("sub", a.Sub)
	w.strOmit("jti", a.JTI)
	if a.RT {
		w.bool("rt", true)
	}
	w.uint("rgen", uint64(a.RGen))
	w.strOmit("rh", a.RH)
	if a.AI {
		w.bool("ai", true)
	}
	if a.HJ {
		w.bool("hj", true)
	}
	w.float("block", a.Block)
	a.riskArgs.appendFields(w)
	w.close()
}

func (a *refreshArgs) appendJSON(w *jw) {
	w.open()
	a.base.appendFields(w)
	w.uint("gen", uint64(a.Gen))
	w.str("h", a.H)
	w.str("nh", a.NH)
	w.int("idle", a.Idle)
	w.int("grace", a.Grace)
	w.int("slack", a.Slack)
	w.float("block", a.Block)
	w.float("thr", a.Thr)
	w.int("upw", a.UpW)
	w.strOmit("up", a.Up)
	if a.UpX != 0 {
		w.int("upx", a.UpX)
	}
	if a.UpRot {
		w.bool("uprot", true)
	}
	if a.UpSeen != 0 {
		w.int("ups", a.UpSeen)
	}
	if a.UpSkip {
		w.bool("upskip", true)
	}
	w.int("hist", int64(a.Hist))
	w.int("ipk", int64(a.IPK))
	a.riskArgs.appendFields(w)
	w.close()
}

func (a *failArgs) appendJSON(w *jw) {
	w.open()
	a.base.appendFields(w)
	w.close()
}
