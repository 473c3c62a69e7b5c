package smpp

import "fmt"

// Status is a command_status value. A non-zero Status is an error: the peer's negative
// answer, inspectable with errors.As. The zero value is StatusOK (ESME_ROK).
type Status uint32

// Command status values of SMPP 3.4 (SMPP.md §5), plus the v5.0 codes 0x100–0x106 that
// 3.4 reserves for extensions. Names follow the spec without the ESME_R prefix.
const (
	StatusOK              Status = 0x00000000 // ESME_ROK
	StatusInvMsgLen       Status = 0x00000001 // ESME_RINVMSGLEN
	StatusInvCmdLen       Status = 0x00000002 // ESME_RINVCMDLEN
	StatusInvCmdID        Status = 0x00000003 // ESME_RINVCMDID
	StatusInvBndSts       Status = 0x00000004 // ESME_RINVBNDSTS
	StatusAlyBnd          Status = 0x00000005 // ESME_RALYBND
	StatusInvPrtFlg       Status = 0x00000006 // ESME_RINVPRTFLG
	StatusInvRegDlvFlg    Status = 0x00000007 // ESME_RINVREGDLVFLG
	StatusSysErr          Status = 0x00000008 // ESME_RSYSERR
	StatusInvSrcAdr       Status = 0x0000000A // ESME_RINVSRCADR
	StatusInvDstAdr       Status = 0x0000000B // ESME_RINVDSTADR
	StatusInvMsgID        Status = 0x0000000C // ESME_RINVMSGID
	StatusBindFail        Status = 0x0000000D // ESME_RBINDFAIL
	StatusInvPaswd        Status = 0x0000000E // ESME_RINVPASWD
	StatusInvSysID        Status = 0x0000000F // ESME_RINVSYSID
	StatusCancelFail      Status = 0x00000011 // ESME_RCANCELFAIL
	StatusReplaceFail     Status = 0x00000013 // ESME_RREPLACEFAIL
	StatusMsgQFul         Status = 0x00000014 // ESME_RMSGQFUL
	StatusInvSerTyp       Status = 0x00000015 // ESME_RINVSERTYP
	StatusInvNumDests     Status = 0x00000033 // ESME_RINVNUMDESTS
	StatusInvDLName       Status = 0x00000034 // ESME_RINVDLNAME
	StatusInvDestFlag     Status = 0x00000040 // ESME_RINVDESTFLAG
	StatusInvSubRep       Status = 0x00000042 // ESME_RINVSUBREP
	StatusInvESMClass     Status = 0x00000043 // ESME_RINVESMCLASS
	StatusCntSubDL        Status = 0x00000044 // ESME_RCNTSUBDL
	StatusSubmitFail      Status = 0x00000045 // ESME_RSUBMITFAIL
	StatusInvSrcTON       Status = 0x00000048 // ESME_RINVSRCTON
	StatusInvSrcNPI       Status = 0x00000049 // ESME_RINVSRCNPI
	StatusInvDstTON       Status = 0x00000050 // ESME_RINVDSTTON
	StatusInvDstNPI       Status = 0x00000051 // ESME_RINVDSTNPI
	StatusInvSysTyp       Status = 0x00000053 // ESME_RINVSYSTYP
	StatusInvRepFlag      Status = 0x00000054 // ESME_RINVREPFLAG
	StatusInvNumMsgs      Status = 0x00000055 // ESME_RINVNUMMSGS
	StatusThrottled       Status = 0x00000058 // ESME_RTHROTTLED
	StatusInvSched        Status = 0x00000061 // ESME_RINVSCHED
	StatusInvExpiry       Status = 0x00000062 // ESME_RINVEXPIRY
	StatusInvDftMsgID     Status = 0x00000063 // ESME_RINVDFTMSGID
	StatusXTAppn          Status = 0x00000064 // ESME_RX_T_APPN
	StatusXPAppn          Status = 0x00000065 // ESME_RX_P_APPN
	StatusXRAppn          Status = 0x00000066 // ESME_RX_R_APPN
	StatusQueryFail       Status = 0x00000067 // ESME_RQUERYFAIL
	StatusInvOptParStream Status = 0x000000C0 // ESME_RINVOPTPARSTREAM
	StatusOptParNotAllwd  Status = 0x000000C1 // ESME_ROPTPARNOTALLWD
	StatusInvParLen       Status = 0x000000C2 // ESME_RINVPARLEN
	StatusMissingOptParam Status = 0x000000C3 // ESME_RMISSINGOPTPARAM
	StatusInvOptParamVal  Status = 0x000000C4 // ESME_RINVOPTPARAMVAL
	StatusDeliveryFailure Status = 0x000000FE // ESME_RDELIVERYFAILURE
	StatusUnknownErr      Status = 0x000000FF // ESME_RUNKNOWNERR

	// SMPP v5.0 codes in the range 3.4 reserves for extensions.
	StatusSerTypUnauth      Status = 0x00000100 // ESME_RSERTYPUNAUTH
	StatusProhibited        Status = 0x00000101 // ESME_RPROHIBITED
	StatusSerTypUnavail     Status = 0x00000102 // ESME_RSERTYPUNAVAIL
	StatusSerTypDenied      Status = 0x00000103 // ESME_RSERTYPDENIED
	StatusInvDCS            Status = 0x00000104 // ESME_RINVDCS
	StatusInvSrcAddrSubunit Status = 0x00000105 // ESME_RINVSRCADDRSUBUNIT
	StatusInvDstAddrSubunit Status = 0x00000106 // ESME_RINVDSTADDRSUBUNIT
)

// StatusClass says what a sender should do about a non-zero Status.
type StatusClass uint8

const (
	// ClassOK is the class of StatusOK only.
	ClassOK StatusClass = iota
	// ClassTransient: retry the same PDU later, with back-off (throttled, queue full,
	// system error, receiver temporary error).
	ClassTransient
	// ClassPermanent: this message will never be accepted as it is (bad destination, bad
	// source, bad parameters, ...). Unknown and vendor-specific codes are permanent.
	ClassPermanent
	// ClassBind: credentials or bind problem; do not hammer-reconnect.
	ClassBind
	// ClassSession: a session or codec problem (bad length, bad state, unsupported command);
	// fix the session (re-bind), after which the message itself may be retried.
	ClassSession
)

// String returns "ok", "transient", "permanent", "bind" or "session".
func (c StatusClass) String() string {
	switch c {
	case ClassOK:
		return "ok"
	case ClassTransient:
		return "transient"
	case ClassPermanent:
		return "permanent"
	case ClassBind:
		return "bind"
	case ClassSession:
		return "session"
	}
	return fmt.Sprintf("StatusClass(%d)", uint8(c))
}

type statusInfo struct {
	name  string
	class StatusClass
}

// statusTable holds every named code with its class (SMPP.md §5). Codes not listed are
// ClassPermanent.
var statusTable = map[Status]statusInfo{
	StatusOK:              {"ESME_ROK", ClassOK},
	StatusInvMsgLen:       {"ESME_RINVMSGLEN", ClassPermanent},
	StatusInvCmdLen:       {"ESME_RINVCMDLEN", ClassSession},
	StatusInvCmdID:        {"ESME_RINVCMDID", ClassSession},
	StatusInvBndSts:       {"ESME_RINVBNDSTS", ClassSession},
	StatusAlyBnd:          {"ESME_RALYBND", ClassSession},
	StatusInvPrtFlg:       {"ESME_RINVPRTFLG", ClassPermanent},
	StatusInvRegDlvFlg:    {"ESME_RINVREGDLVFLG", ClassPermanent},
	StatusSysErr:          {"ESME_RSYSERR", ClassTransient},
	StatusInvSrcAdr:       {"ESME_RINVSRCADR", ClassPermanent},
	StatusInvDstAdr:       {"ESME_RINVDSTADR", ClassPermanent},
	StatusInvMsgID:        {"ESME_RINVMSGID", ClassPermanent},
	StatusBindFail:        {"ESME_RBINDFAIL", ClassBind},
	StatusInvPaswd:        {"ESME_RINVPASWD", ClassBind},
	StatusInvSysID:        {"ESME_RINVSYSID", ClassBind},
	StatusCancelFail:      {"ESME_RCANCELFAIL", ClassPermanent},
	StatusReplaceFail:     {"ESME_RREPLACEFAIL", ClassPermanent},
	StatusMsgQFul:         {"ESME_RMSGQFUL", ClassTransient},
	StatusInvSerTyp:       {"ESME_RINVSERTYP", ClassPermanent},
	StatusInvNumDests:     {"ESME_RINVNUMDESTS", ClassPermanent},
	StatusInvDLName:       {"ESME_RINVDLNAME", ClassPermanent},
	StatusInvDestFlag:     {"ESME_RINVDESTFLAG", ClassPermanent},
	StatusInvSubRep:       {"ESME_RINVSUBREP", ClassPermanent},
	StatusInvESMClass:     {"ESME_RINVESMCLASS", ClassPermanent},
	StatusCntSubDL:        {"ESME_RCNTSUBDL", ClassPermanent},
	StatusSubmitFail:      {"ESME_RSUBMITFAIL", ClassPermanent},
	StatusInvSrcTON:       {"ESME_RINVSRCTON", ClassPermanent},
	StatusInvSrcNPI:       {"ESME_RINVSRCNPI", ClassPermanent},
	StatusInvDstTON:       {"ESME_RINVDSTTON", ClassPermanent},
	StatusInvDstNPI:       {"ESME_RINVDSTNPI", ClassPermanent},
	StatusInvSysTyp:       {"ESME_RINVSYSTYP", ClassBind},
	StatusInvRepFlag:      {"ESME_RINVREPFLAG", ClassPermanent},
	StatusInvNumMsgs:      {"ESME_RINVNUMMSGS", ClassPermanent},
	StatusThrottled:       {"ESME_RTHROTTLED", ClassTransient},
	StatusInvSched:        {"ESME_RINVSCHED", ClassPermanent},
	StatusInvExpiry:       {"ESME_RINVEXPIRY", ClassPermanent},
	StatusInvDftMsgID:     {"ESME_RINVDFTMSGID", ClassPermanent},
	StatusXTAppn:          {"ESME_RX_T_APPN", ClassTransient},
	StatusXPAppn:          {"ESME_RX_P_APPN", ClassPermanent},
	StatusXRAppn:          {"ESME_RX_R_APPN", ClassPermanent},
	StatusQueryFail:       {"ESME_RQUERYFAIL", ClassPermanent},
	StatusInvOptParStream: {"ESME_RINVOPTPARSTREAM", ClassSession},
	StatusOptParNotAllwd:  {"ESME_ROPTPARNOTALLWD", ClassPermanent},
	StatusInvParLen:       {"ESME_RINVPARLEN", ClassPermanent},
	StatusMissingOptParam: {"ESME_RMISSINGOPTPARAM", ClassPermanent},
	StatusInvOptParamVal:  {"ESME_RINVOPTPARAMVAL", ClassPermanent},
	StatusDeliveryFailure: {"ESME_RDELIVERYFAILURE", ClassPermanent},
	StatusUnknownErr:      {"ESME_RUNKNOWNERR", ClassPermanent},

	StatusSerTypUnauth:      {"ESME_RSERTYPUNAUTH", ClassPermanent},
	StatusProhibited:        {"ESME_RPROHIBITED", ClassPermanent},
	StatusSerTypUnavail:     {"ESME_RSERTYPUNAVAIL", ClassPermanent},
	StatusSerTypDenied:      {"ESME_RSERTYPDENIED", ClassPermanent},
	StatusInvDCS:            {"ESME_RINVDCS", ClassPermanent},
	StatusInvSrcAddrSubunit: {"ESME_RINVSRCADDRSUBUNIT", ClassPermanent},
	StatusInvDstAddrSubunit: {"ESME_RINVDSTADDRSUBUNIT", ClassPermanent},
}

// isVendor reports whether s lies in the SMSC-vendor range 0x400–0x4FF.
func (s Status) isVendor() bool { return s >= 0x400 && s <= 0x4FF }

// Name returns the spec's name, e.g. "ESME_RTHROTTLED", or "" for a code SMPP 3.4 (and the
// v5.0 extension range) does not name.
func (s Status) Name() string { return statusTable[s].name }

// Error returns the code and its name, e.g. "0x00000058 ESME_RTHROTTLED"; codes without a
// name read "0x00000401 vendor-specific status" (0x400–0x4FF) or "0x00000123 unknown status".
func (s Status) Error() string {
	if name := s.Name(); name != "" {
		return fmt.Sprintf("0x%08X %s", uint32(s), name)
	}
	if s.isVendor() {
		return fmt.Sprintf("0x%08X vendor-specific status", uint32(s))
	}
	return fmt.Sprintf("0x%08X unknown status", uint32(s))
}

// String is Error, so that a Status prints the same whether or not it is used as an error.
func (s Status) String() string { return s.Error() }

// Class classifies s for the sender (SMPP.md §5). Codes without an entry in the table,
// including the SMSC-vendor range 0x400–0x4FF, are ClassPermanent: a provider-specific
// mapping, if any, belongs in configuration, not here. ESME_RDELIVERYFAILURE is permanent
// unless its data_sm_resp says otherwise: see DeliveryFailureTemporary.
func (s Status) Class() StatusClass {
	if info, ok := statusTable[s]; ok {
		return info.class
	}
	return ClassPermanent
}

// Temporary reports whether the same PDU may succeed if sent again later (ClassTransient).
// For ESME_RDELIVERYFAILURE it is false; DeliveryFailureTemporary reads the reason.
func (s Status) Temporary() bool { return s.Class() == ClassTransient }

// deliveryFailureTemporaryNetError is the delivery_failure_reason "temporary network
// error"; 0 (destination unavailable), 1 (destination address invalid) and 2 (permanent
// network error) are the others.
const deliveryFailureTemporaryNetError = 3

// DeliveryFailureTemporary reports whether a data_sm_resp with status ESME_RDELIVERYFAILURE
// and these TLVs is worth sending again later: its delivery_failure_reason is 3, a temporary
// network error (SMPP.md §5). Any other reason, or a missing or malformed TLV, leaves the
// failure permanent. Session.Request returns the data_sm_resp body with the Status error, so
// a caller can pass its TLVs here.
func DeliveryFailureTemporary(tlvs TLVs) bool {
	reason, ok := tlvs.Uint8(TagDeliveryFailureReason)
	return ok && reason == deliveryFailureTemporaryNetError
}
