package smpp

import (
	"errors"
	"fmt"
	"testing"
)

// TestStatus_Table checks every code of SMPP.md §5 with its name and class.
func TestStatus_Table(t *testing.T) {
	const (
		T = ClassTransient
		P = ClassPermanent
		B = ClassBind
		S = ClassSession
	)
	tests := []struct {
		s     Status
		code  uint32
		name  string
		class StatusClass
	}{
		{StatusOK, 0x00, "ESME_ROK", ClassOK},
		{StatusInvMsgLen, 0x01, "ESME_RINVMSGLEN", P},
		{StatusInvCmdLen, 0x02, "ESME_RINVCMDLEN", S},
		{StatusInvCmdID, 0x03, "ESME_RINVCMDID", S},
		{StatusInvBndSts, 0x04, "ESME_RINVBNDSTS", S},
		{StatusAlyBnd, 0x05, "ESME_RALYBND", S},
		{StatusInvPrtFlg, 0x06, "ESME_RINVPRTFLG", P},
		{StatusInvRegDlvFlg, 0x07, "ESME_RINVREGDLVFLG", P},
		{StatusSysErr, 0x08, "ESME_RSYSERR", T},
		{StatusInvSrcAdr, 0x0A, "ESME_RINVSRCADR", P},
		{StatusInvDstAdr, 0x0B, "ESME_RINVDSTADR", P},
		{StatusInvMsgID, 0x0C, "ESME_RINVMSGID", P},
		{StatusBindFail, 0x0D, "ESME_RBINDFAIL", B},
		{StatusInvPaswd, 0x0E, "ESME_RINVPASWD", B},
		{StatusInvSysID, 0x0F, "ESME_RINVSYSID", B},
		{StatusCancelFail, 0x11, "ESME_RCANCELFAIL", P},
		{StatusReplaceFail, 0x13, "ESME_RREPLACEFAIL", P},
		{StatusMsgQFul, 0x14, "ESME_RMSGQFUL", T},
		{StatusInvSerTyp, 0x15, "ESME_RINVSERTYP", P},
		{StatusInvNumDests, 0x33, "ESME_RINVNUMDESTS", P},
		{StatusInvDLName, 0x34, "ESME_RINVDLNAME", P},
		{StatusInvDestFlag, 0x40, "ESME_RINVDESTFLAG", P},
		{StatusInvSubRep, 0x42, "ESME_RINVSUBREP", P},
		{StatusInvESMClass, 0x43, "ESME_RINVESMCLASS", P},
		{StatusCntSubDL, 0x44, "ESME_RCNTSUBDL", P},
		{StatusSubmitFail, 0x45, "ESME_RSUBMITFAIL", P},
		{StatusInvSrcTON, 0x48, "ESME_RINVSRCTON", P},
		{StatusInvSrcNPI, 0x49, "ESME_RINVSRCNPI", P},
		{StatusInvDstTON, 0x50, "ESME_RINVDSTTON", P},
		{StatusInvDstNPI, 0x51, "ESME_RINVDSTNPI", P},
		{StatusInvSysTyp, 0x53, "ESME_RINVSYSTYP", B},
		{StatusInvRepFlag, 0x54, "ESME_RINVREPFLAG", P},
		{StatusInvNumMsgs, 0x55, "ESME_RINVNUMMSGS", P},
		{StatusThrottled, 0x58, "ESME_RTHROTTLED", T},
		{StatusInvSched, 0x61, "ESME_RINVSCHED", P},
		{StatusInvExpiry, 0x62, "ESME_RINVEXPIRY", P},
		{StatusInvDftMsgID, 0x63, "ESME_RINVDFTMSGID", P},
		{StatusXTAppn, 0x64, "ESME_RX_T_APPN", T},
		{StatusXPAppn, 0x65, "ESME_RX_P_APPN", P},
		{StatusXRAppn, 0x66, "ESME_RX_R_APPN", P},
		{StatusQueryFail, 0x67, "ESME_RQUERYFAIL", P},
		{StatusInvOptParStream, 0xC0, "ESME_RINVOPTPARSTREAM", S},
		{StatusOptParNotAllwd, 0xC1, "ESME_ROPTPARNOTALLWD", P},
		{StatusInvParLen, 0xC2, "ESME_RINVPARLEN", P},
		{StatusMissingOptParam, 0xC3, "ESME_RMISSINGOPTPARAM", P},
		{StatusInvOptParamVal, 0xC4, "ESME_RINVOPTPARAMVAL", P},
		{StatusDeliveryFailure, 0xFE, "ESME_RDELIVERYFAILURE", P},
		{StatusUnknownErr, 0xFF, "ESME_RUNKNOWNERR", P},
		{StatusSerTypUnauth, 0x100, "ESME_RSERTYPUNAUTH", P},
		{StatusInvDCS, 0x104, "ESME_RINVDCS", P},
	}
	for _, tt := range tests {
		if uint32(tt.s) != tt.code {
			t.Errorf("%s = 0x%X, want 0x%X", tt.name, uint32(tt.s), tt.code)
		}
		if tt.s.Name() != tt.name {
			t.Errorf("0x%X: Name() = %q, want %q", tt.code, tt.s.Name(), tt.name)
		}
		if want := fmt.Sprintf("0x%08X %s", tt.code, tt.name); tt.s.Error() != want || tt.s.String() != want {
			t.Errorf("0x%X: Error() = %q, want %q", tt.code, tt.s.Error(), want)
		}
		if tt.s.Class() != tt.class {
			t.Errorf("%s: Class() = %v, want %v", tt.name, tt.s.Class(), tt.class)
		}
		if tt.s.Temporary() != (tt.class == T) {
			t.Errorf("%s: Temporary() = %v", tt.name, tt.s.Temporary())
		}
	}
	if got := StatusThrottled.Error(); got != "0x00000058 ESME_RTHROTTLED" {
		t.Errorf("StatusThrottled = %q", got)
	}
}

func TestStatus_Unnamed(t *testing.T) {
	tests := []struct {
		s    Status
		want string
	}{
		{0x123, "0x00000123 unknown status"},
		{0x09, "0x00000009 unknown status"},
		{0x400, "0x00000400 vendor-specific status"},
		{0x4FF, "0x000004FF vendor-specific status"},
		{0x500, "0x00000500 unknown status"},
	}
	for _, tt := range tests {
		if tt.s.Error() != tt.want || tt.s.Name() != "" {
			t.Errorf("Status(0x%X) = %q (name %q), want %q", uint32(tt.s), tt.s.Error(), tt.s.Name(), tt.want)
		}
		if tt.s.Class() != ClassPermanent || tt.s.Temporary() {
			t.Errorf("Status(0x%X): Class() = %v, want permanent", uint32(tt.s), tt.s.Class())
		}
	}
}

func TestStatus_IsError(t *testing.T) {
	err := fmt.Errorf("submit row 3: %w", StatusMsgQFul)
	var st Status
	if !errors.As(err, &st) || st != StatusMsgQFul || !st.Temporary() {
		t.Fatalf("errors.As gave %v", st)
	}
	for c := ClassOK; c <= ClassSession; c++ {
		if c.String() == "" || c.String()[0] == 'S' {
			t.Errorf("StatusClass(%d).String() = %q", c, c.String())
		}
	}
}

func TestDeliveryFailureTemporary(t *testing.T) {
	tests := []struct {
		name string
		tlvs TLVs
		want bool
	}{
		{"destination unavailable", TLVs{{TagDeliveryFailureReason, []byte{0}}}, false},
		{"destination invalid", TLVs{{TagDeliveryFailureReason, []byte{1}}}, false},
		{"permanent network error", TLVs{{TagDeliveryFailureReason, []byte{2}}}, false},
		{"temporary network error", TLVs{{TagNetworkErrorCode, []byte{3, 0, 1}}, {TagDeliveryFailureReason, []byte{3}}}, true},
		{"no reason", nil, false},
		{"malformed reason", TLVs{{TagDeliveryFailureReason, []byte{0, 3}}}, false},
	}
	for _, tt := range tests {
		if got := DeliveryFailureTemporary(tt.tlvs); got != tt.want {
			t.Errorf("%s: DeliveryFailureTemporary = %v, want %v", tt.name, got, tt.want)
		}
	}
}
